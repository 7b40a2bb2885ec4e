"""One interface, two ways to reach the agent's state: through the daemon, or in this process.

`get_backend(settings)` returns a `DaemonBackend` when a daemon runs for this AGENT_HOME,
otherwise a `LocalBackend` that opens the memory store itself (taking the store's owner lock,
so a second writer fails with a clear error instead of corrupting the index). The CLI and the
REPL only talk to `Backend`: what differs between the two lives here.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable, Iterator, Protocol

from agent import operations as ops
from agent.client import DaemonClient
from config import Settings, UserError

Progress = Callable[[str, int, int], None]
Log = Callable[[str], None]


class Backend(Protocol):
    """What the CLI and the REPL can do with the agent, wherever its state lives."""

    where: str  # for one line of output: "in-process", or "daemon <url>"

    def open(self, log: Log) -> tuple[str, str | None]:
        """Be ready to chat (in-process: the store's owner lock taken, then the model loaded; `log`
        hears of the slow step): (model name, adapter version)."""

    def close(self) -> None: ...

    def import_turns(self, turns: list[dict], progress: Progress | None = None) -> dict:
        """Store `turns`, detect facts; the counts of `agent import`."""

    def facts(self, status: list[str] | None = None) -> list[dict]: ...

    def forget(self, fact: str) -> dict: ...

    def erase_turns(self, ids: list[int], containing: str | None = None) -> dict: ...

    def search(self, query: str, k: int) -> list[dict]: ...

    def recall(self, question: str, session: str | None = None) -> list[dict]: ...

    def adapter(self) -> tuple[str | None, int]:
        """(version, #facts) of the adapter the next answer will use (swapped in now if it changed)."""

    def chat(self, question: str, history=(), session: str | None = None, retrieval: bool = True,
             remember: bool = True, max_tokens: int | None = None) -> tuple[dict, Iterator[str]]:
        """(adapter info, streamed answer); the turns are remembered once the stream ends."""

    def consolidate(self, progress: Progress, log: Log) -> dict:
        """One consolidation run (the daemon's, joined if one runs); its report."""

    def status(self) -> dict: ...


class LocalBackend:
    """In-process: the memory store and the engine are opened on first use."""

    where = "in-process"

    def __init__(self, settings: Settings, engine=None) -> None:
        self.settings = settings
        self._memory = None
        self._engine = engine

    @property
    def memory(self):
        if self._memory is None:
            from memory import Memory

            self._memory = Memory(self.settings)
        return self._memory

    @property
    def engine(self):
        if self._engine is None:
            from agent.runtime import open_engine

            self._engine = open_engine(self.settings)
        return self._engine

    def open(self, log: Log) -> tuple[str, str | None]:
        self.memory  # the store's owner lock first: fail before the model loads
        log("loading model…")
        return self.engine.model_name, self.adapter()[0]

    def close(self) -> None:
        if self._memory is not None:
            self._memory.close()
            self._memory = None

    # ---- memory ---------------------------------------------------------------------------
    def import_turns(self, turns: list[dict], progress: Progress | None = None) -> dict:
        detect_progress = progress and (lambda done, total: progress("detecting facts", done, total))
        return ops.import_turns(self.memory, turns, lambda: self.memory.detect(detect_progress), progress)

    def facts(self, status: list[str] | None = None) -> list[dict]:
        return ops.list_facts(self.memory, status)

    def forget(self, fact: str) -> dict:
        return ops.forget(self.memory, fact)

    def erase_turns(self, ids: list[int], containing: str | None = None) -> dict:
        return ops.erase_turns(self.memory, ids, containing)

    def search(self, query: str, k: int) -> list[dict]:
        return ops.search(self.memory, query, k)

    def recall(self, question: str, session: str | None = None) -> list[dict]:
        return ops.recall(self.memory, question, session)

    # ---- engine ---------------------------------------------------------------------------
    def adapter(self) -> tuple[str | None, int]:
        from consolidation.live import sync_adapter

        return sync_adapter(self.engine, self.settings)

    def chat(self, question: str, history=(), session: str | None = None, retrieval: bool = True,
             remember: bool = True, max_tokens: int | None = None) -> tuple[dict, Iterator[str]]:
        version, n = self.adapter()
        context = ops.context_for(self.engine, self.memory, question, session) if retrieval else ()
        memory = self.memory if remember else None
        pieces = ops.answer_and_remember(self.engine, memory, question, history, context, max_tokens,
                                         session if remember else None, memory.detect if memory else None)
        return {"adapter": version, "adapter_facts": n, "session": session}, pieces

    def consolidate(self, progress: Progress, log: Log) -> dict:
        from consolidation.pipeline import consolidate

        return consolidate(self.settings, self.memory, self.engine, progress=progress, log=log).to_dict()

    def status(self) -> dict:
        from agent.status import collect_status

        info = collect_status(self.settings)
        info["daemon"] = None
        return info


class DaemonBackend:
    """Through the running daemon's HTTP API (it owns the store and the live engine)."""

    def __init__(self, client: DaemonClient) -> None:
        self.client = client
        self.where = f"daemon {client.url}"

    def open(self, log: Log) -> tuple[str, str | None]:
        info = self.status()
        return Path(info["model"]).name, info.get("adapter")

    def close(self) -> None:
        pass

    def import_turns(self, turns: list[dict], progress: Progress | None = None) -> dict:
        # the daemon embeds and detects outside its memory lock and streams its progress back
        report: dict = {}
        for event in self.client.lines("POST", "/v1/hippo/import", {"turns": turns, "progress": True}):
            if event.get("event") == "progress" and progress:
                progress(event["stage"], event["done"], event["total"])
            elif event.get("event") == "error":
                raise UserError(event["message"])
            elif event.get("event") == "report":
                report = event["report"]
        return report

    def facts(self, status: list[str] | None = None) -> list[dict]:
        from urllib.parse import urlencode

        q = urlencode([("status", s) for s in status or []])
        return self.client.request("GET", "/v1/hippo/facts" + (f"?{q}" if q else ""))

    def forget(self, fact: str) -> dict:
        return self.client.request("POST", "/v1/hippo/forget", {"fact": fact})

    def erase_turns(self, ids: list[int], containing: str | None = None) -> dict:
        body = {"turns": ids, **({"turns_containing": containing} if containing is not None else {})}
        return self.client.request("POST", "/v1/hippo/forget", body)

    def search(self, query: str, k: int) -> list[dict]:
        from urllib.parse import urlencode

        return self.client.request("GET", "/v1/hippo/search?" + urlencode({"q": query, "k": k}))

    def recall(self, question: str, session: str | None = None) -> list[dict]:
        from urllib.parse import urlencode

        params = {"q": question, **({"session": session} if session else {})}
        return self.client.request("GET", "/v1/hippo/recall?" + urlencode(params))

    def adapter(self) -> tuple[str | None, int]:
        a = self.client.request("GET", "/v1/hippo/adapter")
        return a["adapter"], a["adapter_facts"]

    def chat(self, question: str, history=(), session: str | None = None, retrieval: bool = True,
             remember: bool = True, max_tokens: int | None = None) -> tuple[dict, Iterator[str]]:
        messages = [{"role": r, "content": c} for r, c in history] + [{"role": "user", "content": question}]
        body = {"model": "hippo", "messages": messages, "retrieval": retrieval, "remember": remember,
                **({"session": session} if session else {}), **({"max_tokens": max_tokens} if max_tokens else {})}
        return self.client.chat(body)

    def consolidate(self, progress: Progress, log: Log) -> dict:
        log(f"asking the daemon ({self.client.url}) to consolidate…")
        report: dict = {}
        for event in self.client.lines("POST", "/v1/hippo/consolidate", {}):
            kind = event.get("event")
            if kind == "progress":
                progress(event["stage"], event["done"], event["total"])
            elif kind == "log":
                log(event["message"])
            elif kind == "report":
                report = event["report"]
        return report

    def status(self) -> dict:
        return self.client.request("GET", "/v1/hippo/status")


def get_backend(settings: Settings, engine=None) -> Backend:
    """The daemon when one runs for `settings.home`, else this process."""
    client = DaemonClient.find(settings)
    return DaemonBackend(client) if client is not None else LocalBackend(settings, engine)
