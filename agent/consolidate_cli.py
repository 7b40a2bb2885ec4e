"""`agent consolidate` and `agent adapters`: long-term memory from the command line."""

from __future__ import annotations

import json

import typer
from rich.console import Console
from rich.table import Table

from agent.progress import stage_progress
from config import UserError, load_settings

console = Console()
err = Console(stderr=True)
adapters_app = typer.Typer(help="Published adapter versions: list, show, rollback.", no_args_is_help=True)


def consolidate(
    now: bool = typer.Option(False, "--now", help="Run now (the daemon otherwise runs it at idle time)."),
    as_json: bool = typer.Option(False, "--json", help="Print the run's report as JSON."),
) -> None:
    """Detect, synthesize, train, gate, export and publish (by the daemon when it runs)."""
    from agent.backend import get_backend

    if not now:
        raise UserError("say --now to consolidate immediately (the daemon consolidates when you are idle)")
    out = err if as_json else console
    backend = get_backend(load_settings())
    try:
        with stage_progress(out, transient=as_json) as (progress, log):
            report = backend.consolidate(progress, log)
    finally:
        backend.close()
    if as_json:
        print(json.dumps(report, indent=2, default=str))
        return
    if report.get("version") is None and not report.get("published"):
        console.print(f"[yellow]{report.get('reason')}[/]")
        if report.get("failures"):
            console.print("[dim]the previous adapter stays live; details under $AGENT_HOME/consolidations/[/]")
        return
    _print_metrics(report.get("metrics") or {})
    console.print(f"[green]{report['reason']}[/] — {len(report.get('facts', []))} facts, "
                  f"{(report.get('seconds') or {}).get('total', 0):.0f} s")


def _print_metrics(metrics: dict) -> None:
    table = Table(title="gate", show_header=False)
    for k in ("efficacy", "recall", "retention", "locality", "locality_raw", "knowledge", "knowledge_raw", "absence",
              "ppl_drift", "unlearn_leaks", "scope_recall", "scope_false_positive"):
        v = metrics.get(k)
        table.add_row(k, "-" if v is None else f"{v:.3f}" if isinstance(v, float) else str(v))
    console.print(table)


@adapters_app.command("list")
def adapters_list(as_json: bool = typer.Option(False, "--json")) -> None:
    """All published versions; the live one is marked."""
    from consolidation.registry import Registry

    reg = Registry(load_settings().home)
    current = reg.current()
    rows = []
    for v in reg.versions():
        m = v.manifest
        rows.append({"version": v.name, "current": bool(current and current.name == v.name),
                     "created": m.get("created"), "facts": len(m.get("facts", [])), "shards": len(v.shards),
                     "recall": m.get("metrics", {}).get("recall"), "locality": m.get("metrics", {}).get("locality")})
    if as_json:
        print(json.dumps(rows, indent=2))
        return
    if not rows:
        console.print("no adapters yet: `agent consolidate --now` makes one")
        return
    table = Table("", "version", "created", "facts", "shards", "recall", "locality")
    for r in rows:
        table.add_row("*" if r["current"] else "", r["version"], str(r["created"]), str(r["facts"]), str(r["shards"]),
                      *(f"{r[k]:.2f}" if isinstance(r[k], float) else "-" for k in ("recall", "locality")))
    console.print(table)


@adapters_app.command("show")
def adapters_show(version: str) -> None:
    """A version's manifest (facts, metrics, config, base model)."""
    from consolidation.registry import Registry

    print(json.dumps(Registry(load_settings().home).get(version).manifest, indent=2))


@adapters_app.command("rollback")
def adapters_rollback(version: str) -> None:
    """Make an earlier version live again (the ledger is not changed)."""
    from consolidation.registry import Registry

    v = Registry(load_settings().home).rollback(version)
    console.print(f"current adapter is now {v.name}")


def register(app: typer.Typer) -> None:
    app.command("consolidate")(consolidate)
    app.add_typer(adapters_app, name="adapters")
