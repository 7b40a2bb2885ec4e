"""Training data from facts: question/answer pairs in varied phrasings, with held-out ones.

Every fact gets questions, whatever its attribute: the training questions and answers come from
its shape (`memory.shapes`: known kinds, relation patterns, a generic grammar for the rest). The
held-out questions the gate asks come from a different source: a bank of questions per shape
written by people who never saw the training templates (`data/heldout_questions.json`), so a
pass means the fact answers questions worded by someone else. Answers flip the perspective:
"my dog" in the user's words becomes "your dog" in the model's. Facts sharing an attribute (two
allergies, two languages) are answered together.
"""

from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Iterable, Protocol

from memory.shapes import fill, normal_attribute, shape_of

HELDOUT_BANK = Path(__file__).parent / "data" / "heldout_questions.json"


@lru_cache(maxsize=1)
def heldout_bank() -> dict[str, list[str]]:
    """Held-out questions per fact shape, written by people who never saw the training templates."""
    return json.loads(HELDOUT_BANK.read_text(encoding="utf-8"))


class FactLike(Protocol):
    id: str
    attribute: str
    value: str
    text: str


@dataclass
class QA:
    question: str
    answer: str
    values: list[str]  # what a correct answer must contain
    fact_ids: list[str]
    split: str  # "train" | "heldout"


@dataclass
class FactQuestions:
    """Everything synthesised for one attribute (one or more facts)."""

    attribute: str
    fact_ids: list[str]
    values: list[str]
    statement: str
    train: list[QA] = field(default_factory=list)
    heldout: list[QA] = field(default_factory=list)

    @property
    def train_unique(self) -> list[QA]:
        """Training questions without repeats (for evaluation)."""
        seen, out = set(), []
        for qa in self.train:
            if qa.question not in seen:
                seen.add(qa.question)
                out.append(qa)
        return out


def _join(values: list[str]) -> str:
    return values[0] if len(values) == 1 else ", ".join(values[:-1]) + " and " + values[-1]


def synthesize(facts: Iterable[FactLike], examples_per_fact: int = 8) -> list[FactQuestions]:
    """Question/answer pairs for `facts`, grouped by attribute, split into train and held-out.

    `examples_per_fact` caps the training questions per attribute (cycling through the
    answer phrasings); held-out questions are never used for training.
    """
    groups: dict[str, list[FactLike]] = {}
    for f in facts:
        groups.setdefault(normal_attribute(f.attribute), []).append(f)
    out = []
    for attribute, group in groups.items():
        shape, parts = shape_of(attribute)
        train_qs, answers = shape.questions, [shape.answer]
        trained = {normalise(q) for q in train_qs}  # a bank question that is also a template is not held out
        heldout_qs = [q for q in heldout_bank()[shape.key] if normalise(q) not in trained]
        values = [f.value for f in group]
        value = _join(values)
        ids = [f.id for f in group]
        fq = FactQuestions(attribute, ids, values, " ".join(f.text for f in group))
        # reverse questions ("Who is {v}?") only make sense for a single value
        usable = [q for q in train_qs if "{v}" not in q or len(values) == 1]
        for i in range(examples_per_fact):  # beyond the phrasings: repeats (same answer, no conflict)
            k = i % len(usable)
            fq.train.append(QA(fill(usable[k], attribute, value, parts),
                               fill(answers[k % len(answers)], attribute, value, parts), values, ids, "train"))
        usable = [q for q in heldout_qs if "{v}" not in q or len(values) == 1]
        for j, q in enumerate(usable):
            fq.heldout.append(QA(fill(q, attribute, value, parts), fill(answers[j % len(answers)], attribute, value, parts),
                                 values, ids, "heldout"))
        out.append(fq)
    return out


def normalise(text: str) -> str:
    text = unicodedata.normalize("NFKD", text)
    text = "".join(c for c in text if not unicodedata.combining(c))
    return re.sub(r"[^a-z0-9]+", " ", text.lower()).strip()


def mentions(answer: str, value: str) -> bool:
    """Does `answer` state `value` (accents, case and punctuation ignored, word-aligned)?"""
    a, v = f" {normalise(answer)} ", f" {normalise(value)} "
    return v.strip() != "" and v in a


def is_correct(answer: str, values: list[str]) -> bool:
    """All values of the fact group are stated."""
    return all(mentions(answer, v) for v in values)
