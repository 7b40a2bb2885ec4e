"""One consolidation run: ledger → synthesize → train → measure → export → gate → publish.

Every run retrains one adapter for the whole current fact set (candidates + consolidated), so
superseded and forgotten facts simply leave the weights; the gate verifies they are gone.
Crash safety: the new version is built in a staging dir and only renamed into place when
complete; `current` switches atomically after that; the ledger is updated last, in one
transaction. A crash anywhere leaves the previous adapter live and the ledger as it was.
"""

from __future__ import annotations

import math
import random
import shutil
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable

from config import Settings
from config.atomic import atomic_write_json
from consolidation.erase import erase_values
from consolidation.bank import cached_answers, cached_value, distill_prompts, locality_bank, reference_text
from consolidation.gate import evaluate
from consolidation.live import apply_version, embedder_for, fits
from consolidation.registry import Registry
from consolidation.scope import is_personal
from consolidation.synthesize import synthesize
from consolidation.train import Example, LoraTrainConfig
from memory.shapes import is_name

Progress = Callable[[str, int, int], None]  # (stage, done, total)


@dataclass
class ConsolidationReport:
    version: str | None
    published: bool
    facts: list[dict]
    metrics: dict = field(default_factory=dict)
    seconds: dict = field(default_factory=dict)
    reason: str = ""
    unlearned: list[str] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        return asdict(self)


def train_config(settings: Settings, steps: int) -> LoraTrainConfig:
    c = settings.consolidation
    return LoraTrainConfig(rank=c.rank, alpha=c.alpha, learning_rate=c.learning_rate, steps=steps,
                           batch_size=c.batch_size, target_modules=tuple(c.target_modules),
                           layers=c.layers, seed=c.seed)


def perplexity(model, tokenizer, text: str, window: int = 512) -> float:
    """Token perplexity of `text` in non-overlapping windows (no grad)."""
    import torch

    ids = tokenizer(text, add_special_tokens=False)["input_ids"]
    bos = getattr(tokenizer, "bos_token_id", None)
    device = next(model.parameters()).device
    nll, count = 0.0, 0
    with torch.no_grad():
        for start in range(0, len(ids), window):
            chunk = ([bos] if bos is not None else []) + ids[start:start + window]
            x = torch.tensor([chunk], device=device)
            out = model(input_ids=x, labels=x)
            n = len(chunk) - 1
            nll += float(out.loss) * n
            count += n
    return math.exp(nll / max(count, 1))


@dataclass
class Candidate:
    """A trained, exported, measured adapter waiting in a staging dir."""

    staging: Path
    version: str
    gguf: Path
    scope: object
    gate: object  # GateResult
    metrics: dict
    seconds: dict
    manifest: dict


def export_adapter(model, info, alpha: float, out_dir: Path, version: str | None = None) -> Path:
    """Save the trained LoRA `model` into `out_dir`: PEFT files (for torch) and `adapter.gguf` (for
    llama.cpp, stamped with the base model `info`)."""
    from consolidation.adapter_file import write_lora_gguf
    from consolidation.train import lora_state_dict

    model.save_pretrained(out_dir, safe_serialization=True)
    return write_lora_gguf(lora_state_dict(model), out_dir / "adapter.gguf", architecture=info.architecture,
                           n_layers=info.n_layers, alpha=alpha, base_sha256=info.sha256, version=version)


def baseline_key(engine, settings: Settings) -> list[str]:
    """What the cached base answers depend on: the model, its prompt, and how long an answer may be."""
    return [engine.base_sha256, engine.format.style, engine.format.render("{q}"), str(settings.model.max_tokens)]


def build_candidate(settings: Settings, engine, facts, earlier_ids: set[str], unlearn, registry: Registry,
                    progress: Progress | None = None, log: Callable[[str], None] = print,
                    gate_prompts: int | None = None) -> Candidate:
    """Synthesize → train → measure perplexity → export + scope → gate, for `facts` (FactLike).

    `earlier_ids`: facts consolidated before (their retention is checked); `unlearn`: facts
    whose values must no longer come out; `gate_prompts`: the gate measures locality on the first
    `gate_prompts` bank and personal prompts only (benchmarks' quick runs; None: all of them).
    Needs no memory store: benchmarks call it directly.
    """
    progress = progress or (lambda *a: None)
    c = settings.consolidation
    seconds: dict[str, float] = {}

    t0 = time.perf_counter()
    groups = synthesize(facts, c.examples_per_fact)
    unlearn_groups = synthesize(unlearn, c.examples_per_fact)
    seconds["synthesis"] = time.perf_counter() - t0

    # base answers (cached per model): anchors for training, the bank for the gate
    t0 = time.perf_counter()
    engine.set_adapter(None)
    key = baseline_key(engine, settings)
    prompts = distill_prompts()
    random.Random(c.seed).shuffle(prompts)
    anchors = prompts[: c.anchors]
    anchor_answers = cached_answers(settings.cache, key, anchors, engine.answer,
                                    lambda i, n: progress("base answers (anchors, once)", i, n)) if anchors else []
    bank = locality_bank()[:gate_prompts]
    base_bank = cached_answers(settings.cache, key, [b.question for b in bank], engine.answer,
                               lambda i, n: progress("base answers (bank, once)", i, n))
    seconds["baselines"] = time.perf_counter() - t0

    # training
    t0 = time.perf_counter()
    from consolidation.base_model import load_base_model
    from consolidation.prompt import format_for_model
    from consolidation.train import train_lora

    model, tokenizer, info = load_base_model(settings, progress=log)
    fmt = format_for_model(settings.model.prompt_format, info.gguf_path)
    examples = [Example(qa.question, qa.answer) for g in groups for qa in g.train]
    must = [True] * len(examples)
    examples += [Example(p, a, c.anchor_weight) for p, a in zip(anchors, anchor_answers) if a.strip()]
    must += [False] * (len(examples) - len(must))
    budget = c.max_steps
    result = train_lora(model, tokenizer, fmt, examples, train_config(settings, budget),
                        on_step=lambda i, loss: progress("training", i, budget), stop_loss=c.stop_loss,
                        must_learn=must, anchor_share=c.anchor_share)
    progress("training", result.steps, result.steps)  # early stop: the bar ends where training did
    seconds["training"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    ref = reference_text()

    def base_ppl() -> float:
        with result.model.disable_adapter():
            return perplexity(result.model, tokenizer, ref)

    ppl_base = cached_value(settings.cache, ["ppl", info.sha256, ref], base_ppl)
    ppl_new = perplexity(result.model, tokenizer, ref)
    seconds["perplexity"] = time.perf_counter() - t0

    # export into a staging dir
    t0 = time.perf_counter()
    staging = registry.stage()
    version = registry.next_name()
    gguf_path = export_adapter(result.model, info, c.alpha, staging, version)
    train_stats = {"train_steps": result.steps, "train_tokens": result.tokens,
                   "train_examples": len(examples), "stopped_early": result.stopped_early,
                   "final_loss": result.losses[-1]}
    scope = None
    if c.scope_gate:
        from consolidation.scope import Scope

        keys = [qa.question for g in groups for qa in g.train_unique] + [g.statement for g in groups]
        values = [v for g in groups if is_name(g.attribute) for v in g.values]  # "Who is Pepper?"
        scope = Scope.build(keys, embedder_for(settings), c.scope_threshold, values=values)
        scope.save(staging)
    seconds["export"] = time.perf_counter() - t0

    # the gate
    t0 = time.perf_counter()
    unseen = [p for p in prompts[c.anchors:] if is_personal(p)][:gate_prompts]
    gate = evaluate(engine, gguf_path, scope, groups, earlier_ids, unlearn_groups, bank, base_bank, c.gate,
                    ppl_drift=ppl_new / ppl_base - 1.0, scope_on=c.scope_gate,
                    personal=(unseen, cached_answers(settings.cache, key, unseen, _base_answer(engine),
                                                      lambda i, n: progress("base answers (personal, once)", i, n))),
                    progress=lambda stage, i, n: progress(f"gate: {stage}", i, n))
    seconds["gate"] = time.perf_counter() - t0
    metrics = {**gate.metrics, "ppl_base": ppl_base, "ppl_adapter": ppl_new, **train_stats}
    manifest = {
        "version": version, "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "base_model": {"path": str(info.gguf_path), "sha256": info.sha256, "architecture": info.architecture},
        "facts": [{"id": f.id, "text": f.text, "attribute": f.attribute, "value": f.value} for f in facts],
        "unlearned": [f.id for f in unlearn], "metrics": metrics,
        "config": c.model_dump(mode="json"), "prompt_format": fmt.style,
        "scope": {"threshold": c.scope_threshold, "keys": len(scope.keys)} if scope else None,
    }
    return Candidate(staging, version, gguf_path, scope, gate, metrics, seconds, manifest)


def _base_answer(engine):
    """Answer with the base model alone, restoring whatever adapter was set."""
    def answer(q: str) -> str:
        saved = engine.adapter, engine.scope
        engine.set_adapter(None)
        try:
            return engine.answer(q)
        finally:
            if saved[0] is not None:
                engine.set_adapter(saved[0].path, version=saved[0].version, scope=saved[1])
    return answer


def consolidate(settings: Settings, memory, engine, progress: Progress | None = None,
                log: Callable[[str], None] = print, detect: Callable[[], object] | None = None,
                gate_prompts: int | None = None, keep: Path | None = None) -> ConsolidationReport:
    """Run one consolidation with `memory` (a memory.Memory) and the live `engine`.

    `detect` brings the facts up to date first (default `memory.detect`; the daemon passes its own,
    which extracts outside its memory lock). Benchmarks: `gate_prompts` as in `build_candidate`;
    `keep` gets a copy of the candidate, published or not (what a rejected adapter would answer)."""
    t_start = time.perf_counter()
    registry = Registry(settings.home)
    stale = registry.clean()
    if stale:
        log(f"removed half-written versions: {', '.join(stale)}")

    (detect or memory.detect)()
    candidates = memory.facts("candidate")
    consolidated = memory.facts("consolidated")
    unlearn = memory.to_unlearn()
    facts = consolidated + candidates
    fact_dicts = [{"id": f.id, "text": f.text, "attribute": f.attribute, "value": f.value, "status": f.status}
                  for f in facts]
    current = registry.current()
    switched = current is not None and not fits(current, engine.base_sha256)  # the user changed models
    if not candidates and not unlearn and not switched:
        return ConsolidationReport(None, False, fact_dicts, reason="nothing to do: no new candidate facts")
    if not facts:  # everything was forgotten: the base model alone is the right answer
        registry.set_current(None)
        engine.set_adapter(None)
        memory.mark_unlearned([f.id for f in unlearn])
        erase_values(settings.home, [f for f in unlearn if f.status == "forgotten"])
        return ConsolidationReport(None, True, [], seconds={"total": time.perf_counter() - t_start},
                                   reason="no facts left: adapter removed", unlearned=[f.id for f in unlearn])

    cand = build_candidate(settings, engine, facts, {f.id for f in consolidated}, unlearn, registry, progress, log,
                           gate_prompts)
    if keep is not None:
        shutil.copytree(cand.staging, keep)
    report = ConsolidationReport(cand.version, cand.gate.passed, fact_dicts, cand.metrics, cand.seconds,
                                 failures=cand.gate.failures)
    if cand.gate.passed:
        published = registry.commit(cand.staging, cand.manifest)
        registry.set_current(published)
        memory.set_status([f.id for f in candidates], "consolidated", note=f"consolidated into {cand.version}")
        memory.mark_unlearned([f.id for f in unlearn])
        apply_version(engine, settings, published)
        report.unlearned = [f.id for f in unlearn]
        report.reason = f"published {cand.version}"
    else:
        shutil.rmtree(cand.staging, ignore_errors=True)
        apply_version(engine, settings, registry.current())  # the previous adapter stays live
        report.version = None
        report.reason = "gate failed: " + "; ".join(cand.gate.failures)
    report.seconds["total"] = time.perf_counter() - t_start
    _record(settings, report, cand.gate.details)
    if cand.gate.passed:  # the weights no longer hold them: forgotten values leave every record
        erase_values(settings.home, [f for f in unlearn if f.status == "forgotten"])
    return report


def _record(settings: Settings, report: ConsolidationReport, details: dict) -> Path:
    """Keep every run's report (published or not) under $AGENT_HOME/consolidations/."""
    path = settings.home / "consolidations" / f"{time.strftime('%Y%m%dT%H%M%S')}-{report.version or 'rejected'}.json"
    atomic_write_json(path, {**report.to_dict(), "details": details})
    return path
