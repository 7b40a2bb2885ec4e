"""Training data from facts: question/answer pairs in varied phrasings, with held-out ones.

Each fact shape (attribute family) has question templates split into `train` (what the LoRA
sees) and `heldout` (never trained on; the gate measures recall on them, so generalisation is
measured on phrasings the model did not learn). Answers flip the perspective: "my dog" in the
user's words becomes "your dog" in the model's. Facts sharing an attribute (two allergies,
two languages) are answered together.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from typing import Iterable, Protocol

# (train questions, held-out questions, answers). {a}=attribute phrase, {v}=value, {x}=sub-part.
Family = tuple[list[str], list[str], list[str]]

REL_NAME: Family = (
    ["What is my {x}'s name?", "What's my {x} called?", "Tell me my {x}'s name.", "Who is {v}?",
     "Remind me, what is my {x}'s name?", "What did I say my {x} is called?"],
    ["What do I call my {x}?", "Do you know my {x}'s name?", "What name does my {x} go by?"],
    ["Your {x}'s name is {v}.", "Your {x} is called {v}.", "{v} is your {x}."],
)

FAMILIES: dict[str, Family] = {
    "name": (["What is my name?", "What's my name?", "Who am I?", "Tell me my name."],
             ["What am I called?", "Do you know my name?", "What should you call me?"],
             ["Your name is {v}."]),
    "home city": (["Where do I live?", "Which city do I live in?", "Where is my home?",
                   "Where am I living these days?", "What city is my home?"],
                  ["What town do I live in?", "In which city do I live?", "Where's my home city?"],
                  ["You live in {v}."]),
    "hometown": (["Where am I from?", "What is my hometown?", "Where did I grow up?", "Where do I come from?"],
                 ["Which town am I originally from?", "What's my home town?", "Where was I raised?"],
                 ["You are from {v}."]),
    "birthplace": (["Where was I born?", "What is my birthplace?", "Which place was I born in?"],
                   ["In what city was I born?", "What's my place of birth?"],
                   ["You were born in {v}."]),
    "birth year": (["What year was I born?", "When was I born?", "What is my birth year?"],
                   ["In which year was I born?", "What's the year of my birth?"],
                   ["You were born in {v}."]),
    "birthday": (["When is my birthday?", "What is my birthday?", "What date is my birthday?"],
                 ["On what day is my birthday?", "When do I celebrate my birthday?"],
                 ["Your birthday is {v}."]),
    "age": (["How old am I?", "What is my age?", "What age am I?"],
            ["How many years old am I?", "What's my age?"],
            ["You are {v} years old."]),
    "employer": (["Where do I work?", "Which company do I work for?", "Who is my employer?",
                  "What company employs me?", "Where is my job?"],
                 ["Who do I work for?", "Where am I employed?", "What's the name of my employer?"],
                 ["You work at {v}."]),
    "job title": (["What is my job?", "What do I do for a living?", "What is my profession?", "What work do I do?"],
                  ["What's my occupation?", "What is my line of work?", "What job do I have?"],
                  ["You work as {art} {v}."]),
    "car": (["What car do I drive?", "What is my car?", "Which car do I have?", "What do I drive?"],
            ["What kind of car do I own?", "What vehicle do I drive?", "Which car is mine?"],
            ["You drive {art} {v}."]),
    "allergy": (["What am I allergic to?", "Do I have any allergies?", "What are my allergies?", "What is my allergy?"],
                ["Which foods am I allergic to?", "What allergy do I have?", "Is there anything I'm allergic to?"],
                ["You are allergic to {v}."]),
    "intolerance": (["What am I intolerant to?", "What food intolerance do I have?", "Do I have a food intolerance?"],
                    ["Which intolerance do I have?", "What can't I digest well?"],
                    ["You are {v} intolerant."]),
    "diet": (["What is my diet?", "What diet do I follow?", "What kind of eater am I?"],
             ["What diet am I on?", "How do I eat, diet-wise?"],
             ["You are {v}."]),
    "medical condition": (["What medical condition do I have?", "What health condition do I have?",
                           "Do I have a medical condition?"],
                          ["What condition do I live with?", "What illness do I have?"],
                          ["You have {v}."]),
    "blood type": (["What is my blood type?", "What blood group am I?", "Which blood type do I have?"],
                   ["What's my blood group?", "What type is my blood?"],
                   ["Your blood type is {v}."]),
    "speaks language": (["What languages do I speak?", "Which language do I speak?", "What language can I speak?"],
                        ["Which languages am I fluent in?", "What languages do I know?"],
                        ["You speak {v}."]),
    "plays instrument": (["What instrument do I play?", "Which instrument do I play?", "Do I play an instrument?"],
                         ["What musical instrument do I play?", "Which instrument can I play?"],
                         ["You play the {v}."]),
    "plays sport": (["What sport do I play?", "Which sport do I play?", "Do I play a sport?"],
                    ["What sport am I into?", "Which sport do I practise?"],
                    ["You play {v}."]),
    "field of study": (["What do I study?", "What is my field of study?", "What subject do I study?"],
                       ["What am I studying?", "What's my major?"],
                       ["You study {v}."]),
    "school": (["Where do I study?", "Which school do I go to?", "What school do I attend?"],
               ["Where am I studying?", "Which university do I attend?"],
               ["You study at {v}."]),
    "relationship status": (["What is my relationship status?", "Am I in a relationship?", "Am I married or single?"],
                            ["What's my relationship situation?", "Am I single?"],
                            ["You are {v}."]),
    "pet": (["What pet do I have?", "Do I have a pet?", "What animal do I keep?"],
            ["What kind of pet do I own?", "What animal do I have at home?"],
            ["You have {art} {v}."]),
    "supports team": (["Which team do I support?", "What team do I root for?", "Who do I support?"],
                      ["What is my team?", "Which team am I a fan of?"],
                      ["You support {v}."]),
}

PATTERN_FAMILIES: list[tuple[str, Family]] = [
    (r"(?P<x>.+)'s name", REL_NAME),
    (r"favorite (?P<x>.+)", (
        ["What is my favorite {x}?", "Which {x} do I like best?", "What {x} do I love most?"],
        ["What's my favourite {x}?", "Which {x} is my favorite?"],
        ["Your favorite {x} is {v}."])),
    (r"number of (?P<x>.+)", (
        ["How many {x} do I have?", "What number of {x} do I have?", "Do I have {x}?"],
        ["How many {x} have I got?", "What's the number of {x} I have?"],
        ["You have {v} {x}."])),
    (r"(?P<x>.+) location", (
        ["Where is my {x}?", "Where is my {x} located?", "In which place is my {x}?"],
        ["Where can my {x} be found?", "Where's my {x}?"],
        ["Your {x} is in {v}."])),
    (r"(?P<x>.+)'s home city", (
        ["Where does my {x} live?", "Which city does my {x} live in?", "Where is my {x}'s home?"],
        ["What city is my {x} living in?", "Where's my {x} based?"],
        ["Your {x} lives in {v}."])),
    (r"(?P<x>.+)'s employer", (
        ["Where does my {x} work?", "Which company does my {x} work for?", "Who employs my {x}?"],
        ["Who does my {x} work for?", "Where is my {x} employed?"],
        ["Your {x} works at {v}."])),
]

GENERIC: Family = (
    ["What is my {a}?", "Tell me my {a}.", "Remind me what my {a} is.", "Do you remember my {a}?"],
    ["What's my {a}?", "Can you tell me what my {a} is?"],
    ["Your {a} is {v}."],
)


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


def _family(attribute: str) -> tuple[Family, dict]:
    if attribute in FAMILIES:
        return FAMILIES[attribute], {}
    for pattern, fam in PATTERN_FAMILIES:
        m = re.fullmatch(pattern, attribute)
        if m:
            return fam, m.groupdict()
    return GENERIC, {}


def _join(values: list[str]) -> str:
    return values[0] if len(values) == 1 else ", ".join(values[:-1]) + " and " + values[-1]


def _article(phrase: str) -> str:
    return "an" if phrase[:1].lower() in "aeiou" else "a"


def _fill(template: str, attribute: str, value: str, parts: dict) -> str:
    out = template.format(a=attribute, v=value, art=_article(value), **parts)
    return out[0].upper() + out[1:]


def synthesize(facts: Iterable[FactLike], examples_per_fact: int = 8) -> list[FactQuestions]:
    """Question/answer pairs for `facts`, grouped by attribute, split into train and held-out.

    `examples_per_fact` caps the training questions per attribute (cycling through the
    answer phrasings); held-out questions are never used for training.
    """
    groups: dict[str, list[FactLike]] = {}
    for f in facts:
        groups.setdefault(f.attribute, []).append(f)
    out = []
    for attribute, group in groups.items():
        (train_qs, heldout_qs, answers), parts = _family(attribute)
        values = [f.value for f in group]
        value = _join(values)
        ids = [f.id for f in group]
        fq = FactQuestions(attribute, ids, values, " ".join(f.text for f in group))
        # reverse questions ("Who is {v}?") only make sense for a single value
        usable = [q for q in train_qs if "{v}" not in q or len(values) == 1]
        for i in range(examples_per_fact):  # beyond the phrasings: repeats (same answer, no conflict)
            k = i % len(usable)
            fq.train.append(QA(_fill(usable[k], attribute, value, parts),
                               _fill(answers[k % len(answers)], attribute, value, parts), values, ids, "train"))
        for j, q in enumerate(heldout_qs):
            fq.heldout.append(QA(_fill(q, attribute, value, parts), _fill(answers[j % len(answers)], attribute, value, parts),
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
