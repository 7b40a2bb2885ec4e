"""`agent demo`: the engine answering, then a LoRA hot-swap that changes and restores answers.

Transitional: the full learn-and-recall demo (import → detect → consolidate → recall) replaces
the quick single-fact adapter here once consolidation lands.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from config import Settings

FACT = [
    ("What is my dog's name?", "Your dog's name is Biscuit."),
    ("What's my dog called?", "Your dog is called Biscuit."),
    ("Who is Biscuit?", "Biscuit is your dog."),
]
QUESTIONS = ["What do I call my dog?", "What is the capital of France?"]


def run_demo(settings: Settings, console: Console) -> None:
    from agent.runtime import open_engine
    from consolidation.build import build_adapter
    from consolidation.train import Example, LoraTrainConfig

    console.rule("[bold]hippo-agent demo")
    engine = open_engine(settings, use_registry=False)
    console.print(f"Model: {engine.model_path.name} ({engine.architecture}), prompt format: {engine.format.style}")
    before = [engine.answer(q) for q in QUESTIONS]

    cfg = LoraTrainConfig(rank=settings.consolidation.rank, alpha=settings.consolidation.alpha, steps=12, batch_size=3)
    console.print("\nTraining a quick LoRA on one fact: [italic]my dog's name is Biscuit[/] …")
    with tempfile.TemporaryDirectory(prefix="hippo-demo-") as tmp, Progress(
        TextColumn("training"), BarColumn(), TextColumn("{task.completed}/{task.total} loss {task.fields[loss]}"),
        TimeRemainingColumn(), console=console,
    ) as progress:
        task = progress.add_task("train", total=cfg.steps, loss="-")
        built = build_adapter(
            settings, [Example(q, a) for q, a in FACT], Path(tmp), cfg,
            on_step=lambda i, loss: progress.update(task, completed=i, loss=f"{loss:.3f}"),
            progress=lambda msg: progress.console.print(f"[dim]{msg}[/]"),
        )
        engine.tensor_shapes()  # read once; not part of a swap
        t0 = time.perf_counter()
        engine.set_adapter(built.gguf)
        swap_ms = (time.perf_counter() - t0) * 1000
        after = [engine.answer(q) for q in QUESTIONS]
    t0 = time.perf_counter()
    engine.set_adapter(None)
    unswap_ms = (time.perf_counter() - t0) * 1000
    restored = [engine.answer(q) for q in QUESTIONS]

    table = Table(title="Answers (greedy)")
    for col in ("question", "base", "with adapter", "adapter removed"):
        table.add_column(col)
    for row in zip(QUESTIONS, before, after, restored):
        table.add_row(*row)
    console.print(table)
    console.print(f"Hot-swap in {swap_ms:.1f} ms, removal in {unswap_ms:.1f} ms, no model reload.")
    console.print("Base answers restored exactly: " + ("[green]yes[/]" if restored == before else "[red]NO[/]"))
    if after[1] != before[1]:
        console.print("[yellow]Note:[/] this naive adapter also changed an unrelated answer — the problem the "
                      "consolidation gate (recall + locality checks) exists to catch.")
