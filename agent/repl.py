"""`agent chat`: the REPL. Every turn is remembered; new adapters are picked up between turns.

Each REPL start is a new session (or `--session ID` continues one). User and assistant turns
go to the memory store; fact detection runs after each user turn. With retrieval on, the
most relevant user turns from *other* sessions that are not yet consolidated go into the
prompt. Before every turn the registry is checked: a newly published adapter is swapped in
(a few ms) and announced on one dim line.
"""

from __future__ import annotations

import time

from rich.console import Console
from rich.table import Table

from config import Settings, UserError

HELP = """Commands:
  /facts            what I have noticed (candidates and consolidated facts)
  /forget ID|TEXT   forget a fact (it leaves retrieval now, the weights at the next consolidation)
  /consolidate      consolidate now (train, gate, publish, hot-swap)
  /status           model, adapter, session, counts
  /session          this session's id
  /reset            clear this conversation's history
  /help             this help
  /exit             leave (Ctrl-D works too)
Ctrl-C while an answer streams stops that answer; the session goes on."""

MAX_HISTORY_TURNS = 6
RETRIEVAL_K = 3
RETRIEVAL_MIN_SCORE = 0.35


def context_text(hits) -> str | None:
    """Recalled turns as the prompt's context block (None when nothing was recalled)."""
    return "\n".join(f"- {h.text}" for h in hits) or None


def new_session_id() -> str:
    return time.strftime("chat-%Y%m%d-%H%M%S")


class ChatSession:
    """The REPL's state and behaviour, separate from terminal I/O so it can be tested."""

    def __init__(self, settings: Settings, engine, memory, console: Console, session: str | None = None,
                 retrieval: bool = True):
        self.settings, self.engine, self.memory, self.console = settings, engine, memory, console
        self.session = session or new_session_id()
        self.retrieval = retrieval
        self.history: list[tuple[str, str]] = []

    # ---- adapters -------------------------------------------------------------------------
    def sync_adapter(self) -> None:
        """Swap in the registry's current version if it is not the one running."""
        from consolidation.live import apply_version
        from consolidation.registry import Registry

        current = Registry(self.settings.home).current()
        running = self.engine.adapter.version if self.engine.adapter else None
        wanted = current.name if current else None
        if wanted == running:
            return
        try:
            apply_version(self.engine, self.settings, current)
        except UserError as e:
            self.console.print(f"[red]could not load adapter {wanted}: {e}[/]")
            return
        if current is None:
            self.console.print("[dim]adapter removed: the base model answers alone[/]")
        else:
            n = len(current.manifest.get("facts", []))
            self.console.print(f"[dim]now using adapter {current.name} ({n} facts learned)[/]")

    # ---- one turn -------------------------------------------------------------------------
    def context_for(self, question: str) -> str | None:
        """Relevant user turns from other sessions whose facts are not in the weights yet."""
        if not self.retrieval:
            return None
        hits = self.memory.recall(question, RETRIEVAL_K, RETRIEVAL_MIN_SCORE, exclude_session=self.session)
        return context_text(hits)

    def respond(self, line: str) -> str:
        """Stream the answer to `line`, remember both turns, run detection."""
        self.sync_adapter()
        self.console.print("[bold green]agent>[/] ", end="")
        pieces: list[str] = []
        stream = self.engine.stream_answer(line, self.history[-2 * MAX_HISTORY_TURNS:], self.context_for(line))
        try:
            for piece in stream:
                if not pieces:
                    piece = piece.lstrip()
                pieces.append(piece)
                self.console.print(piece, end="", markup=False, highlight=False)
            self.console.print()
        except KeyboardInterrupt:
            stream.close()
            self.console.print(" [dim](stopped)[/]")
        answer = "".join(pieces).strip()
        self.history += [("user", line), ("assistant", answer)]
        self.memory.add_turns([{"session": self.session, "role": "user", "content": line},
                               {"session": self.session, "role": "assistant", "content": answer or "…"}])
        self.memory.detect()
        return answer

    # ---- slash commands -------------------------------------------------------------------
    def command(self, line: str) -> bool:
        """Run a /command; False means leave."""
        cmd, _, arg = line.partition(" ")
        cmd, arg = cmd.lower(), arg.strip()
        if cmd in ("/exit", "/quit"):
            return False
        if cmd == "/help":
            self.console.print(HELP)
        elif cmd == "/reset":
            self.history.clear()
            self.console.print("[dim]history cleared[/]")
        elif cmd == "/session":
            self.console.print(f"session {self.session}")
        elif cmd == "/facts":
            table = Table("id", "fact", "sessions", "status")
            for f in self.memory.facts(["observed", "candidate", "consolidated"]):
                table.add_row(f.id, f.text, str(len(f.sessions)), f.status)
            self.console.print(table if table.rows else "[dim]no facts yet[/]")
        elif cmd == "/forget":
            if not arg:
                self.console.print("[red]usage: /forget ID|TEXT[/]")
            else:
                try:
                    f = self.memory.forget(arg)
                    self.console.print(f"forgot {f.id}: {f.text}")
                except UserError as e:
                    self.console.print(f"[red]{e}[/]")
        elif cmd == "/consolidate":
            self.consolidate()
        elif cmd == "/status":
            from agent.status import collect_status

            info = collect_status(self.settings)
            info["session"] = self.session
            for k, v in info.items():
                self.console.print(f"[bold]{k}[/] {v}")
        else:
            self.console.print(f"[red]unknown command {cmd}[/] — /help lists them")
        return True

    def consolidate(self) -> None:
        from agent.progress import stage_progress
        from consolidation.pipeline import consolidate

        with stage_progress(self.console, transient=True) as (progress, log):
            report = consolidate(self.settings, self.memory, self.engine, progress=progress, log=log)
        self.console.print(report.reason)


def run_repl(settings: Settings, engine=None, console: Console | None = None, session: str | None = None,
             retrieval: bool = True) -> None:
    """Read questions, stream answers, remember turns, until /exit or EOF."""
    from agent.runtime import adapter_label, open_engine
    from memory import Memory

    console = console or Console()
    with Memory(settings) as memory:
        console.print("[bold]hippo-agent[/] — loading model…", end="")
        engine = engine or open_engine(settings)
        chat = ChatSession(settings, engine, memory, console, session, retrieval)
        label = adapter_label(engine) or "none"
        console.print(f"\r[bold]hippo-agent[/] · model {engine.model_name} · adapter {label} · session "
                      f"{chat.session}\n[dim]/help for commands, /exit to leave[/]")
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
                if not chat.command(line):
                    break
                continue
            chat.respond(line)
    console.print("[dim]bye[/]")
