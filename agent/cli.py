"""`agent` — the command line (typer + rich).

User mistakes raise `config.UserError`; `main()` prints them as one line and exits 1.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import List, Optional

import typer
from typer.core import TyperGroup
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from config import UserError, load_settings


class _Commands(TyperGroup):
    """Turns a UserError raised by any command into one red line and exit code 1."""

    def invoke(self, ctx):
        os.umask(0o077)  # everything the agent writes is private (see config/private.py)
        try:
            return super().invoke(ctx)
        except UserError as e:
            err.print(f"[red]error:[/] {escape(str(e))}", highlight=False, soft_wrap=True)
            raise typer.Exit(1) from None


err = Console(stderr=True)
app = typer.Typer(
    cls=_Commands,
    help="hippo-agent: a local chat agent that learns what you keep telling it.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
console = Console()


def _read_questions(questions: list[str] | None) -> list[str]:
    if questions:
        qs = [q.strip() for q in questions]
    elif not sys.stdin.isatty():
        qs = [line.strip() for line in sys.stdin]
    else:
        qs = []
    qs = [q for q in qs if q]
    if not qs:
        raise typer.BadParameter("no question given: pass QUESTION arguments or lines on stdin", param_hint="QUESTION")
    return qs


@app.command()
def ask(
    questions: Optional[List[str]] = typer.Argument(None, metavar="QUESTION...", help="Questions; read from stdin (one per line) when none."),
    as_json: bool = typer.Option(False, "--json", help="One JSON object per line."),
    no_adapter: bool = typer.Option(False, "--no-adapter", help="Answer with the base model alone."),
    adapter: Optional[Path] = typer.Option(None, "--adapter", help="Use this GGUF LoRA instead of the current one."),
    no_retrieval: bool = typer.Option(False, "--no-retrieval", help="Answer from the weights alone (no memory in the prompt)."),
    max_tokens: Optional[int] = typer.Option(None, "--max-tokens", min=1),
) -> None:
    """Answer questions greedily (deterministic), one answer per question (not remembered)."""
    from agent.backend import get_backend

    if no_adapter and adapter is not None:
        raise UserError("--no-adapter and --adapter exclude each other")
    qs = _read_questions(questions)
    if adapter is not None:
        from consolidation.adapter_file import read_adapter_header

        read_adapter_header(adapter)  # fail fast, before the model loads
    settings = load_settings()
    backend = get_backend(settings)
    private = None
    if no_adapter or adapter is not None:  # an experiment: a private engine; the live one stays as is
        from agent.runtime import open_engine

        private = open_engine(settings, adapter=adapter, use_registry=False)
    try:
        for q in qs:
            answer, label = _answer(backend, private, q, not no_retrieval, max_tokens)
            if as_json:
                print(json.dumps({"question": q, "answer": answer, "adapter": label}, ensure_ascii=False), flush=True)
            else:
                console.print(f"[bold]Q:[/] {q}\n[bold green]A:[/] {answer}")
    finally:
        backend.close()


def _answer(backend, private, question: str, retrieval: bool, max_tokens) -> tuple[str, str | None]:
    """(answer, adapter label) from the backend's live engine, or from `private` when given."""
    if private is None:
        meta, pieces = backend.chat(question, retrieval=retrieval, remember=False, max_tokens=max_tokens)
        return "".join(pieces).strip(), meta["adapter"]
    from agent.operations import recalled_texts
    from agent.runtime import adapter_label

    context = recalled_texts(backend.recall(question)) if retrieval else ()
    return private.answer(question, context=context, max_tokens=max_tokens), adapter_label(private)


@app.command()
def status(as_json: bool = typer.Option(False, "--json")) -> None:
    """Model, adapter in use, data dir, counts (and the daemon's state when it runs)."""
    from agent.backend import get_backend

    info = get_backend(load_settings()).status()
    if as_json:
        print(json.dumps(info, indent=2, default=str))
        return
    table = Table(show_header=False, box=None)
    for k, v in info.items():
        table.add_row(f"[bold]{k}[/]", json.dumps(v, default=str) if isinstance(v, (dict, list)) else str(v))
    console.print(table)


@app.command("config")
def show_config(as_json: bool = typer.Option(False, "--json")) -> None:
    """Print the effective settings (defaults < config.toml < AGENT_* env)."""
    settings = load_settings()
    data = settings.model_dump(mode="json")
    if as_json:
        print(json.dumps(data, indent=2))
        return
    console.print(f"[dim]config file: {settings.config_file} ({'found' if settings.config_file.exists() else 'none'})[/]")
    for section, values in data.items():
        if isinstance(values, dict):
            console.print(f"[bold]\\[{section}][/]")
            for k, v in values.items():
                console.print(f"  {section}.{k} = {v!r}")
        else:
            console.print(f"[bold]{section}[/] = {values!r}")


@app.command()
def chat(
    session: Optional[str] = typer.Option(None, "--session", help="Continue this session (default: a new one)."),
    no_retrieval: bool = typer.Option(False, "--no-retrieval", help="Do not put remembered turns into the prompt."),
) -> None:
    """Talk to the agent (REPL); every turn is remembered. /help lists commands."""
    from agent.repl import run_repl

    run_repl(load_settings(), session=session, retrieval=not no_retrieval)


@app.command()
def demo() -> None:
    """Learn and recall: import sessions, consolidate, ask paraphrases before/after (a few minutes)."""
    from agent.demo import run_demo

    run_demo(load_settings(), console)


@app.command("mcp")
def mcp_server() -> None:
    """Serve the memory to other agents over MCP (stdio): remember, recall, facts, forget, ask, status."""
    from agent.mcp_server import serve

    serve(load_settings())


from agent import consolidate_cli, daemon_cli, memory_cli  # noqa: E402

memory_cli.register(app)  # import, facts, forget, memory search
consolidate_cli.register(app)  # consolidate, adapters
daemon_cli.register(app)  # daemon [start|stop|status]


def main() -> None:
    """Console-script entry point."""
    app()
