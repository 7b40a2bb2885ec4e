"""`agent chat`: the REPL. Every turn is remembered; new adapters are picked up between turns.

Each REPL start is a new session (or `--session ID` continues one). User and assistant turns
go to the memory store; fact detection runs after each user turn. With retrieval on, the
most relevant user turns from *other* sessions that are not yet consolidated go into the
prompt. With a daemon running, the REPL is its client; otherwise it owns the store itself.
Before every turn the current adapter is checked: a newly published one is swapped in (a few
ms) and announced on one dim line.
"""

from __future__ import annotations

import signal
import time

from rich.console import Console
from rich.markup import escape
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


def new_session_id() -> str:
    return time.strftime("chat-%Y%m%d-%H%M%S")


class ChatSession:
    """The REPL's state and behaviour, separate from terminal I/O so it can be tested.

    `backend` is the daemon or this process (`agent.backend`); the REPL works the same on both.
    """

    def __init__(self, settings: Settings, backend, console: Console, session: str | None = None,
                 retrieval: bool = True, adapter: str | None = None):
        self.settings, self.backend, self.console = settings, backend, console
        self.session = session or new_session_id()
        self.retrieval = retrieval
        self.history: list[tuple[str, str]] = []
        self.adapter = adapter  # the version the last answer came from

    def announce_adapter(self, version: str | None, n_facts: int) -> None:
        """One dim line when the adapter changed since the last turn.

        The conversation so far is dropped from the prompt then: answers the old weights gave
        would otherwise be copied by the new ones (seen: "Your dog is called a dog." repeated
        from history after the adapter had learned "Pepper"). The turns stay in memory."""
        if version == self.adapter:
            return
        self.adapter = version
        dropped = "; earlier answers dropped from the prompt" if self.history else ""
        self.history.clear()
        if version is None:
            self.console.print(f"[dim]adapter removed: the base model answers alone{dropped}[/]")
        else:
            self.console.print(f"[dim]now using adapter {version} ({n_facts} facts learned){dropped}[/]")

    # ---- one turn -------------------------------------------------------------------------
    def respond(self, line: str) -> str:
        """Stream the answer to `line`; the backend remembers both turns and runs detection."""
        self.announce_adapter(*self.backend.adapter())  # before the history goes into the prompt
        meta, stream = self.backend.chat(line, self.history[-2 * MAX_HISTORY_TURNS:], self.session,
                                         self.retrieval)
        self.announce_adapter(meta.get("adapter"), meta.get("adapter_facts", 0))  # swapped just now
        self.console.print("[bold green]agent>[/] ", end="")
        pieces: list[str] = []
        try:
            for piece in stream:
                pieces.append(piece)
                self.console.print(piece, end="", markup=False, highlight=False)
            self.console.print()
        except KeyboardInterrupt:
            stream.close()
            self.console.print(" [dim](stopped)[/]")
        answer = "".join(pieces).strip()
        self.history += [("user", line), ("assistant", answer)]
        return answer

    # ---- slash commands -------------------------------------------------------------------
    def command(self, line: str) -> bool:
        """Run a /command; False means leave."""
        cmd, _, arg = line.partition(" ")
        cmd, arg = cmd.lower(), arg.strip()
        if cmd in ("/exit", "/quit"):
            return False
        try:
            self._command(cmd, arg)
        except UserError as e:
            self.console.print(f"[red]{escape(str(e))}[/]")
        return True

    def _command(self, cmd: str, arg: str) -> None:
        if cmd == "/help":
            self.console.print(HELP)
        elif cmd == "/reset":
            self.history.clear()
            self.console.print("[dim]history cleared[/]")
        elif cmd == "/session":
            self.console.print(f"session {self.session}")
        elif cmd == "/facts":
            table = Table("id", "fact", "sessions", "status")
            for f in self.backend.facts(["observed", "candidate", "consolidated"]):
                table.add_row(f["id"], escape(f["text"]), str(len(f["sessions"])), f["status"])
            self.console.print(table if table.rows else "[dim]no facts yet[/]")
        elif cmd == "/forget":
            if not arg:
                self.console.print("[red]usage: /forget ID|TEXT[/]")
            else:
                f = self.backend.forget(arg)
                self.console.print(f"forgot {f['id']}: {escape(f['text'])}")
        elif cmd == "/consolidate":
            self.consolidate()
        elif cmd == "/status":
            info = self.backend.status()
            info["session"] = self.session
            for k, v in info.items():
                self.console.print(f"[bold]{k}[/] {v}", highlight=False)
        else:
            self.console.print(f"[red]unknown command {cmd}[/] — /help lists them")

    def consolidate(self) -> None:
        from agent.progress import stage_progress

        with stage_progress(self.console, transient=True) as (progress, log):
            report = self.backend.consolidate(progress, log)
        self.console.print(report.get("reason", ""))


def run_repl(settings: Settings, console: Console | None = None, session: str | None = None,
             retrieval: bool = True) -> None:
    """Read questions, stream answers, remember turns, until /exit or EOF."""
    from agent.backend import get_backend

    console = console or Console()
    backend = get_backend(settings)
    # Ctrl-C must stop an answer even when SIGINT came ignored from the parent (a background
    # job, CI, a supervisor): install Python's handler for the session, put the old one back after.
    previous_sigint = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        model, adapter = backend.open(lambda msg: console.print(f"[bold]hippo-agent[/] — {msg}", end=""))
        chat = ChatSession(settings, backend, console, session, retrieval, adapter)
        console.print(f"\r[bold]hippo-agent[/] · model {model} · adapter {adapter or 'none'} · session "
                      f"{chat.session} · {backend.where}\n[dim]/help for commands, /exit to leave[/]")
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
            try:
                chat.respond(line)
            except UserError as e:
                console.print(f"\n[red]error:[/] {escape(str(e))}")
    finally:
        backend.close()
        if previous_sigint is not None:  # None: set outside Python, cannot be put back
            signal.signal(signal.SIGINT, previous_sigint)
    console.print("[dim]bye[/]")
