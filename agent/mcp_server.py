"""`agent mcp`: the agent's memory as an MCP server (stdio) for other agents.

Tools: `remember`, `recall`, `facts`, `forget`, `ask`, `status`. Every call goes through
`agent.backend.get_backend`: the daemon when one runs for this AGENT_HOME, else this process,
which opens the memory store for that one call only (its owner lock is not held between calls,
so `agent chat` or a daemon can start meanwhile; without a daemon, each `ask` loads the model,
a second or two for the embedded one). Calls run one at a time. A `config.UserError` comes back as a tool error with its
one-line message; anything else as the SDK's bare "Error executing tool …" (traceback on stderr).
"""

from __future__ import annotations

import threading
import time
from contextlib import contextmanager
from typing import Annotated, Any, Iterator, Literal, Optional

from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp.types import ToolAnnotations
from pydantic import Field

from config import Settings, UserError
from memory.ledger import STATUSES

INSTRUCTIONS = (
    "hippo is the user's long-term memory. Call `remember` with things the user says about "
    "themselves; facts repeated in two or more sessions are learned into the model's weights "
    "when the user is idle. `recall` searches what was said, `facts` lists what was noticed, "
    "`ask` answers from the learned weights alone."
)

Status = Literal[STATUSES]  # type: ignore[valid-type]  # the ledger's fact statuses, as an enum for the host
_READ_ONLY = ToolAnnotations(read_only_hint=True, open_world_hint=False)


class _Hippo:
    """The tools' state: settings, the default session, one call at a time."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.session = time.strftime("mcp-%Y%m%d-%H%M%S")  # one session per server start, like `agent chat`
        self.lock = threading.Lock()

    @contextmanager
    def backend(self) -> Iterator[Any]:
        from agent.backend import get_backend

        with self.lock:
            backend = None
            try:
                backend = get_backend(self.settings)
                yield backend
            except UserError as e:
                raise ToolError(" ".join(str(e).split())) from None
            finally:
                if backend is not None:
                    backend.close()


def build_server(settings: Settings) -> MCPServer:
    """The MCP server named "hippo" with the six tools, bound to `settings`."""
    hippo = _Hippo(settings)
    server = MCPServer("hippo", instructions=INSTRUCTIONS)

    @server.tool(annotations=ToolAnnotations(read_only_hint=False, destructive_hint=False, open_world_hint=False))
    def remember(text: str, session: Optional[str] = None) -> dict[str, Any]:
        """Remember something the user said, as one user turn (secrets are redacted before
        storing). `session` names the conversation (default: one per server start); a fact said
        in two or more sessions becomes a candidate for learning into the weights. Returns what
        was stored and the fact counts."""
        turn = {"session": session or hippo.session, "role": "user", "content": text}
        with hippo.backend() as b:
            report = b.import_turns([turn])
        return {"session": turn["session"], **report}

    @server.tool(annotations=_READ_ONLY)
    def recall(query: str, k: Annotated[int, Field(ge=1, le=100)] = 5) -> list[dict]:
        """Search the remembered turns: the `k` nearest in meaning to `query`, each with its
        score, session, role and text."""
        with hippo.backend() as b:
            return b.search(query, k)

    @server.tool(annotations=_READ_ONLY)
    def facts(status: Optional[list[Status]] = None) -> list[dict]:
        """The facts noticed in what the user said, oldest first. `status` filters by observed,
        candidate (said in 2+ sessions, to be learned), consolidated (in the weights),
        superseded, forgotten or rejected (refused by the write-path gate)."""
        with hippo.backend() as b:
            return b.facts(status or None)

    @server.tool(annotations=ToolAnnotations(read_only_hint=False, destructive_hint=True,
                                             idempotent_hint=True, open_world_hint=False))
    def forget(fact: str) -> dict[str, Any]:
        """Forget a fact, by id or by a sentence naming its value: the value is erased from every
        stored turn now, and from the weights at the next consolidation. Returns the fact."""
        with hippo.backend() as b:
            return b.forget(fact)

    @server.tool(annotations=_READ_ONLY)
    def ask(question: str) -> dict[str, Any]:
        """Ask the agent's model, answering from its weights alone (no remembered turns in the
        prompt): it knows what was consolidated into the current adapter. Not remembered."""
        with hippo.backend() as b:
            meta, pieces = b.chat(question, retrieval=False, remember=False)
            answer = "".join(pieces).strip()
        return {"question": question, "answer": answer, "adapter": meta["adapter"]}

    @server.tool(annotations=_READ_ONLY)
    def status() -> dict[str, Any]:
        """Model, adapter in use, data dir, fact and turn counts, the daemon's state (null when
        none runs: then calls are served in-process), and the default session of `remember`."""
        with hippo.backend() as b:
            return {**b.status(), "default_session": hippo.session}

    return server


def serve(settings: Settings) -> None:
    """Serve over stdio until the client closes the connection."""
    build_server(settings).run("stdio")
