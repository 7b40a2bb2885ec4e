"""One interface, two ways to reach the agent's state: through the daemon, or in this process.

`get_backend(settings)` returns a `DaemonBackend` when a daemon runs for this AGENT_HOME,
otherwise a `LocalBackend` that opens the memory store itself (taking the store's owner lock,
so a second writer fails with a clear error instead of corrupting the index). The CLI and the
REPL only talk to this interface.
"""

from __future__ import annotations

from typing import Callable, Iterator

from agent import operations as ops
from agent.client import DaemonClient
from config import Settings, UserError

Progress = Callable[[str, int, int], None]


class LocalBackend:
    """In-process: the memory store and the engine are opened on first use."""

    via = "local"

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
        """(version, #facts) of the adapter the next answer will use."""
        return self.sync_adapter()

    def sync_adapter(self) -> tuple[str | None, int]:
        """Swap in the registry's current version if another one runs; (version, #facts)."""
        from consolidation.live import apply_version
        from consolidation.registry import Registry

        current = Registry(self.settings.home).current()
        running = self.engine.adapter.version if self.engine.adapter else None
        if (current.name if current else None) != running:
            apply_version(self.engine, self.settings, current)
        return (current.name, len(current.manifest.get("facts", []))) if current else (None, 0)

    def chat(self, question: str, history=(), session: str | None = None, retrieval: bool = True,
             remember: bool = True, max_tokens: int | None = None) -> tuple[dict, Iterator[str]]:
        """(adapter info, streamed answer); the turns are remembered once the stream ends."""
        version, n = self.sync_adapter()
        context = ops.recalled_texts(self.recall(question, session)) if retrieval else ()
        memory = self.memory if remember else None
        pieces = ops.answer_and_remember(self.engine, memory, question, history, context, max_tokens,
                                         session if remember else None, memory.detect if memory else None)
        return {"adapter": version, "adapter_facts": n, "session": session}, pieces

    def consolidate(self, progress: Progress, log: Callable[[str], None]) -> dict:
        from consolidation.pipeline import consolidate

        return consolidate(self.settings, self.memory, self.engine, progress=progress, log=log).to_dict()

    def status(self) -> dict:
        from agent.status import collect_status

        info = collect_status(self.settings)
        info["daemon"] = None
        return info


class DaemonBackend:
    """Through the running daemon's HTTP API (it owns the store and the live engine)."""

    via = "daemon"

    def __init__(self, client: DaemonClient) -> None:
        self.client = client

    def close(self) -> None:
        pass

    def import_turns(self, turns: list[dict], progress: Progress | None = None) -> dict:
        """The daemon embeds and detects outside its memory lock and streams its progress back."""
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
        """(version, #facts) of the adapter the daemon's next answer will use."""
        a = self.client.request("GET", "/v1/hippo/adapter")
        return a["adapter"], a["adapter_facts"]

    def chat(self, question: str, history=(), session: str | None = None, retrieval: bool = True,
             remember: bool = True, max_tokens: int | None = None) -> tuple[dict, Iterator[str]]:
        messages = [{"role": r, "content": c} for r, c in history] + [{"role": "user", "content": question}]
        body = {"model": "hippo", "messages": messages, "retrieval": retrieval, "remember": remember,
                **({"session": session} if session else {}), **({"max_tokens": max_tokens} if max_tokens else {})}
        return self.client.chat(body)

    def consolidate(self, progress: Progress, log: Callable[[str], None]) -> dict:
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


def get_backend(settings: Settings, engine=None) -> LocalBackend | DaemonBackend:
    """The daemon when one runs for `settings.home`, else this process."""
    client = DaemonClient.find(settings)
    return DaemonBackend(client) if client is not None else LocalBackend(settings, engine)
