"""`agent chat`: a small REPL over the engine (memory arrives with the daemon issue)."""

from __future__ import annotations

from rich.console import Console

from agent.engine import Engine
from config import Settings

HELP = """Commands:
  /help    this help
  /reset   forget this conversation's history
  /exit    leave (Ctrl-D works too)
Ctrl-C while an answer streams stops that answer; the session goes on."""

MAX_HISTORY_TURNS = 6


def run_repl(settings: Settings, engine: Engine | None = None, console: Console | None = None) -> None:
    """Read questions, stream answers, keep a short history, until /exit or EOF."""
    from agent.runtime import adapter_label, open_engine

    console = console or Console()
    console.print("[bold]hippo-agent[/] — loading model…", end="")
    engine = engine or open_engine(settings)
    label = adapter_label(engine) or "none"
    console.print(f"\r[bold]hippo-agent[/] · model {engine.model_name} · adapter {label}\n[dim]/help for commands, /exit to leave[/]")
    history: list[tuple[str, str]] = []
    while True:
        try:
            line = console.input("[bold cyan]you>[/] ").strip()
        except EOFError:
            console.print()
            break
        except KeyboardInterrupt:
            console.print("\n[dim](Ctrl-C: type /exit to leave)[/]")
            continue
        if not line:
            continue
        if line.startswith("/"):
            cmd = line.split()[0].lower()
            if cmd in ("/exit", "/quit"):
                break
            if cmd == "/help":
                console.print(HELP)
            elif cmd == "/reset":
                history.clear()
                console.print("[dim]history cleared[/]")
            else:
                console.print(f"[red]unknown command {cmd}[/] — /help lists them")
            continue
        console.print("[bold green]agent>[/] ", end="")
        pieces: list[str] = []
        stream = engine.stream_answer(line, history[-2 * MAX_HISTORY_TURNS:])
        try:
            for piece in stream:
                if not pieces:
                    piece = piece.lstrip()
                pieces.append(piece)
                console.print(piece, end="", markup=False, highlight=False)
            console.print()
        except KeyboardInterrupt:
            stream.close()
            console.print(" [dim](stopped)[/]")
        answer = "".join(pieces).strip()
        history += [("user", line), ("assistant", answer)]
    console.print("[dim]bye[/]")
