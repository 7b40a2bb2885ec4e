"""The publish gate: measure a candidate adapter before it may go live.

(a) efficacy on trained questions, (b) recall on held-out paraphrases, (c) retention: the trained
questions of facts consolidated earlier still answered right (their held-out questions count in
recall only), (d) locality: unrelated-bank greedy answers unchanged vs. the base model,
(e) knowledge retention on bank questions the base answers correctly, (f) that superseded
and forgotten values are no longer produced, and (g) absence: asked about something the user
never said, no learned value comes out (consolidation/absence.py). Locality and knowledge are
reported both for the raw adapter (applied to everything) and as deployed through the scope gate.
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Sequence

from config.settings import GateSettings
from consolidation.bank import BankItem, bank_correct
from consolidation.absence import ABSENT_ANSWER
from consolidation.synthesize import QA, FactQuestions, is_correct, mentions


@dataclass
class GateResult:
    metrics: dict
    passed: bool
    failures: list[str] = field(default_factory=list)
    details: dict = field(default_factory=dict)
    seconds: dict = field(default_factory=dict)  # per check (what a round's gate time is made of)


def unlearn_probes(unlearn: Sequence[FactQuestions]) -> list[QA]:
    """The questions that can show a superseded or forgotten value still coming out of the weights:
    those that do not name it themselves. Asked "Who is Teimklin?", a model that never learned the
    name answers "Teimklin is …" all the same."""
    return [qa for g in unlearn for qa in g.train_unique + g.heldout
            if not any(mentions(qa.question, v) for v in qa.values)]


def _rate(flags: Sequence[bool]) -> float | None:
    return sum(flags) / len(flags) if flags else None


def evaluate(
    engine, adapters: Sequence[Path], scope, groups: Sequence[FactQuestions], earlier_ids: set[str],
    unlearn: Sequence[FactQuestions], bank: Sequence[BankItem], base_bank: Sequence[str],
    thresholds: GateSettings, ppl_drift: float | None = None, scope_on: bool = True,
    personal: tuple[Sequence[str], Sequence[str]] = ((), ()),
    absent: tuple[Sequence[QA], Sequence[str]] = ((), ()),
    progress: Callable[[str, int, int], None] | None = None,
) -> GateResult:
    """Run every check on the shard `adapters` (chosen per question by `scope`) with `engine` and
    compare against `thresholds` (`thresholds.trained_sample`: trained questions asked per fact,
    a seeded sample; every held-out one is asked). `absent`: "never said" questions and every
    learned value, none of which their answers may state. `thresholds.raw_sample`: bank and personal questions (each)
    that the raw adapters answer for the raw figures, which are reported, not gated."""
    progress = progress or (lambda *a: None)
    seconds: dict[str, float] = {}
    engine.set_adapters(adapters, scope=scope)

    def ask_all(qas: Sequence[QA], label: str) -> list[tuple[QA, str, bool]]:
        t0, out = time.perf_counter(), []
        for i, qa in enumerate(qas):
            out.append((qa, engine.answer(qa.question), engine.last_routed))
            progress(label, i + 1, len(qas))
        seconds[label] = time.perf_counter() - t0
        return out

    rng, k = random.Random(0), thresholds.trained_sample
    train = ask_all([qa for g in groups for qa in (g.train_unique if k is None or len(g.train_unique) <= k
                                                   else rng.sample(g.train_unique, k))], "trained questions")
    heldout = ask_all([qa for g in groups for qa in g.heldout], "held-out paraphrases")
    retained = [(qa, a, r) for qa, a, r in train if set(qa.fact_ids) & earlier_ids]
    leaks = []
    for qa, a, _ in ask_all(unlearn_probes(unlearn), "unlearned facts"):
        if any(mentions(a, v) for v in qa.values):
            leaks.append({"question": qa.question, "answer": a, "old": qa.values})
    absent_qas, learned_values = absent
    invented = [{"question": qa.question, "answer": a, "learned": [v for v in learned_values if mentions(a, v)]}
                for qa, a, _ in ask_all(absent_qas, "never-said questions")]

    # locality as deployed: a question the scope routes in is answered by its shard's adapter, any
    # other by the base model alone, i.e. the base answer. The raw figures (adapters applied to
    # everything, each question its nearest shard) come from a seeded sample of `raw_sample` questions.
    def raw_and_gated(questions: Sequence[str], base: Sequence[str], label: str):
        t0 = time.perf_counter()
        routed = [bool(scope.match(q)) for q in questions] if scope else [True] * len(questions)
        sample = sorted(random.Random(0).sample(range(len(questions)), min(thresholds.raw_sample, len(questions))))
        ask = sorted(set(sample) | {i for i, use in enumerate(routed) if use})
        answers = {}
        for n, i in enumerate(ask):
            answers[i] = engine.answer(questions[i])
            progress(label, n + 1, len(ask))
        gated = [answers[i] if use else b for i, (b, use) in enumerate(zip(base, routed))]
        seconds[label] = time.perf_counter() - t0
        return {i: answers[i] for i in sample}, gated, routed

    engine.set_adapters(adapters, scope=scope.everywhere() if scope else None)
    raw, gated, routed = raw_and_gated([b.question for b in bank], base_bank, "unrelated bank")
    p_questions, p_base = personal
    p_raw, p_gated, p_routed = raw_and_gated(p_questions, p_base, "personal near-misses")
    engine.set_adapters(adapters, scope=scope)

    known = [i for i, item in enumerate(bank) if item.answers and bank_correct(base_bank[i], item)]
    m = {
        "efficacy": _rate([is_correct(a, qa.values) for qa, a, _ in train]),
        "recall": _rate([is_correct(a, qa.values) for qa, a, _ in heldout]),
        "retention": _rate([is_correct(a, qa.values) for qa, a, _ in retained]),
        "locality": _rate([g == b for g, b in zip(gated, base_bank)]),
        "locality_raw": _rate([a == base_bank[i] for i, a in raw.items()]),
        "knowledge": _rate([bank_correct(gated[i], bank[i]) for i in known]),
        "knowledge_raw": _rate([bank_correct(raw[i], bank[i]) for i in known if i in raw]),
        "locality_personal": _rate([g == b for g, b in zip(p_gated, p_base)]),
        "locality_personal_raw": _rate([a == p_base[i] for i, a in p_raw.items()]),
        "absence": _rate([not x["learned"] for x in invented]),
        "absence_declined": _rate([mentions(x["answer"], ABSENT_ANSWER) for x in invented]),
        "ppl_drift": ppl_drift,
        "unlearn_leaks": len(leaks),
        "scope_recall": _rate([r for _, _, r in heldout]) if scope else None,
        "scope_false_positive": _rate(routed) if scope else None,
        "scope_false_positive_personal": _rate(p_routed) if scope else None,
        "n_trained_questions": len(train),
        "n_heldout": len(heldout),
        "n_retained": len(retained),
        "n_bank": len(bank),
        "n_known": len(known),
        "n_personal": len(p_questions),
        "n_raw": len(raw) + len(p_raw),
        "n_absent": len(invented),
    }
    checks = [
        ("efficacy", m["efficacy"], thresholds.min_efficacy, True),
        ("recall", m["recall"], thresholds.min_recall, True),
        ("retention", m["retention"], thresholds.min_retention, True),
        ("locality", m["locality"], thresholds.min_locality, True),
        ("knowledge", m["knowledge"], thresholds.min_knowledge, True),
        # without the scope gate nothing keeps never-said questions from the adapters: reported only
        ("absence", m["absence"], thresholds.min_absence if scope_on else 0.0, True),
        # with the scope gate, prose never reaches the adapter: gate the raw drift more loosely
        ("ppl_drift", m["ppl_drift"], thresholds.max_ppl_drift_raw if scope_on else thresholds.max_ppl_drift, False),
    ]
    failures = []
    for name, value, limit, at_least in checks:
        if value is None:
            continue
        if (value < limit) if at_least else (abs(value) > limit):
            failures.append(f"{name} {value:.3f} {'<' if at_least else '>'} {limit}")
    if leaks:
        failures.append(f"{len(leaks)} answers still give superseded/forgotten values")
    details = {
        "wrong": [{"question": qa.question, "answer": a, "expected": qa.values}
                  for qa, a, _ in train + heldout if not is_correct(a, qa.values)][:50],
        "leaks": leaks[:50],
        "invented": [x for x in invented if x["learned"]][:50],
        "changed": [{"question": item.question, "base": b, "now": g}
                    for item, g, b in zip(bank, gated, base_bank) if g != b][:50],
        "changed_personal": [{"question": q, "base": b, "now": g}
                             for q, g, b in zip(p_questions, p_gated, p_base) if g != b][:50],
    }
    return GateResult(m, not failures, failures, details, seconds)
