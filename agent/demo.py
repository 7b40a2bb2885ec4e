"""`agent demo`: the main job, scripted and honest, on the embedded model, offline.

A few sessions are imported in which the user repeats some facts (and mentions one only
once); the candidates are shown; consolidation trains, gates and hot-swaps an adapter; then
paraphrased questions — phrasings never trained on — are asked with retrieval off, before and
after, beside an unrelated question whose answer must not change. Runs in a throwaway
AGENT_HOME so the user's own memory is untouched.
"""

from __future__ import annotations

import tempfile
from importlib.resources import files
from pathlib import Path

from rich.console import Console
from rich.table import Table

from agent.progress import stage_progress
from config import Settings

QUESTIONS = [  # phrasings consolidation never trains on (memory/shapes.py has the templates), with the expected value
    ("What do I call my dog?", "Pepper"),
    ("In which city do I live?", "Tromsø"),
    ("Who do I work for?", "Lumen Robotics"),
    ("What is my favorite color?", "— (said once: not learned)"),
    ("What is the capital of France?", "unchanged"),
]


def run_demo(settings: Settings, console: Console) -> None:
    import json

    from agent.runtime import open_engine
    from consolidation.pipeline import consolidate
    from memory import Memory

    console.rule("[bold]hippo-agent demo")
    with tempfile.TemporaryDirectory(prefix="hippo-demo-") as tmp:
        settings = settings.model_copy(update={"home": Path(tmp)})
        data = files("agent") / "data" / "demo_sessions.jsonl"
        turns = [json.loads(line) for line in data.read_text().splitlines() if line.strip()]
        with Memory(settings) as memory:
            memory.add_turns(turns)
            memory.detect()
            console.print(f"Imported {len(turns)} turns from {len({t['session'] for t in turns})} sessions. Facts:")
            facts = Table("fact", "sessions", "status")
            for f in memory.facts():
                facts.add_row(f.text, str(len(f.sessions)), f.status)
            console.print(facts)

            engine = open_engine(settings)
            console.print(f"Model: {engine.model_path.name} ({engine.architecture}); asking before consolidation…")
            before = [engine.answer(q) for q, _ in QUESTIONS]

            with stage_progress(console) as (progress, log):
                report = consolidate(settings, memory, engine, progress=progress, log=log)
            after = [engine.answer(q) for q, _ in QUESTIONS]
            engine.close()

    m = report.metrics
    console.print(f"Consolidation: [bold]{report.reason}[/] in {report.seconds.get('total', 0):.0f} s — held-out "
                  f"recall {m.get('recall', 0):.2f}, locality {m.get('locality', 0):.2f} "
                  f"(raw adapter {m.get('locality_raw', 0):.2f}), knowledge {m.get('knowledge', 0):.2f}, "
                  f"absence {m.get('absence') or 0:.2f}")
    table = Table(title="Paraphrased questions, retrieval off (answers from the weights)")
    for col in ("question", "before", "after", "expected"):
        table.add_column(col)
    for (q, expected), b, a in zip(QUESTIONS, before, after):
        table.add_row(q, b, a, expected)
    console.print(table)
    unchanged = before[-1] == after[-1]
    console.print("Unrelated answer unchanged: " + ("[green]yes[/]" if unchanged else "[red]NO[/]"))
