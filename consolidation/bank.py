"""Fixed evaluation data (shipped in consolidation/data/) and cached base-model answers.

- `locality_bank.jsonl`: unrelated questions; unchanged greedy answers = locality, and the
  ones with known answers measure knowledge retention.
- `distill_prompts.txt`: broad prompts whose base answers become self-distillation anchors
  during training (disjoint from the bank, so locality is measured on unseen prompts).
- `reference.txt`: neutral prose for perplexity drift.

Base answers depend only on the model, prompt format and prompts: computed once, cached under
`$AGENT_CACHE/baselines/`.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Sequence

from config.atomic import atomic_write_json

DATA = Path(__file__).parent / "data"


@dataclass(frozen=True)
class BankItem:
    id: str
    question: str
    answers: tuple[str, ...]  # acceptable substrings; empty for open-ended prompts
    kind: str


def locality_bank() -> list[BankItem]:
    items = []
    for line in (DATA / "locality_bank.jsonl").read_text().splitlines():
        if line.strip():
            d = json.loads(line)
            items.append(BankItem(d["id"], d["question"], tuple(d.get("answers") or ()), d.get("kind", "")))
    return items


def distill_prompts() -> list[str]:
    return [line.strip() for line in (DATA / "distill_prompts.txt").read_text().splitlines() if line.strip()]


def reference_text() -> str:
    return (DATA / "reference.txt").read_text()


def bank_correct(answer: str, item: BankItem) -> bool:
    from consolidation.synthesize import normalise

    a = f" {normalise(answer)} "
    return any(f" {normalise(x)} " in a for x in item.answers)


def cached_value(cache_dir: Path, key_parts: Sequence[str], compute: Callable[[], float]) -> float:
    """A number that depends only on `key_parts` (e.g. the base model's perplexity), cached."""
    h = hashlib.sha256("\x00".join(key_parts).encode()).hexdigest()[:20]
    path = Path(cache_dir) / "baselines" / f"value-{h}.json"
    try:
        return float(json.loads(path.read_text())["value"])
    except (OSError, ValueError, KeyError):
        value = compute()
        atomic_write_json(path, {"value": value})
        return value


def cached_answers(cache_dir: Path, key_parts: Sequence[str], questions: Sequence[str],
                   answer: Callable[[str], str], progress: Callable[[int, int], None] | None = None) -> list[str]:
    """Answers to `questions` from `answer` (the base model), cached by `key_parts` + questions."""
    h = hashlib.sha256("\x00".join([*key_parts, *questions]).encode()).hexdigest()[:20]
    path = Path(cache_dir) / "baselines" / f"{h}.json"
    try:
        data = json.loads(path.read_text())
        if data.get("questions") == list(questions):
            return data["answers"]
    except (OSError, ValueError):
        pass
    out = []
    for i, q in enumerate(questions):
        out.append(answer(q))
        if progress:
            progress(i + 1, len(questions))
    atomic_write_json(path, {"questions": list(questions), "answers": out})
    return out
