"""`agent mcp`: the MCP server, driven by the SDK's own client over stdio (a real subprocess)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import anyio
import pytest
from mcp import ClientSession, StdioServerParameters, stdio_client

from config import load_settings

REPO = Path(__file__).resolve().parent.parent
TOOLS = {"remember", "recall", "facts", "forget", "ask", "status"}
PEPPER = "My dog's name is Pepper."


def run_client(steps, tmp_path, timeout: float = 120):
    """Spawn `python -m agent mcp` with this test's AGENT_* settings, run `await steps(session)`
    on an initialised ClientSession, return its result and the server's stderr."""
    env = {k: v for k, v in os.environ.items()
           if k.startswith("AGENT_") or k in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "ANONYMIZED_TELEMETRY")}
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO), os.environ.get("PYTHONPATH")) if p)
    params = StdioServerParameters(command=sys.executable, args=["-m", "agent", "mcp"], env=env, cwd=str(REPO))
    log = tmp_path / "mcp-stderr.txt"

    async def main():
        with anyio.fail_after(timeout), open(log, "w") as errlog:
            async with stdio_client(params, errlog=errlog) as (read, write):
                async with ClientSession(read, write) as session:
                    await session.initialize()
                    return await steps(session)

    try:
        return anyio.run(main), log.read_text()
    except BaseException:
        print(log.read_text() if log.exists() else "(no server stderr)", file=sys.stderr)
        raise


async def call(client, name: str, /, **args):
    """A successful call's structured result (a list tool's comes as {"result": [...]})."""
    r = await client.call_tool(name, args)
    assert not r.is_error, r.content
    data = r.structured_content
    return data["result"] if set(data) == {"result"} else data


def test_mcp_tools_over_stdio(tmp_path):
    async def steps(session):
        names = {t.name for t in (await session.list_tools()).tools}
        out = {"tools": names}
        for s in ("a", "b"):
            out[f"remember_{s}"] = await call(session, "remember", text=PEPPER, session=s)
        # the store's lock is not held between calls: another process could open it now
        from memory import Memory

        Memory(load_settings()).close()
        out["facts"] = await call(session, "facts", status=["candidate"])
        out["recall"] = await call(session, "recall", query="dog", k=3)
        out["forget"] = await call(session, "forget", fact="Pepper")
        out["bad"] = await session.call_tool("forget", {"fact": "nothing like it"})
        out["status"] = await call(session, "status")
        return out

    out, stderr = run_client(steps, tmp_path)
    assert out["tools"] == TOOLS
    assert out["remember_a"]["session"] == "a" and out["remember_a"]["turns_imported"] == 1
    assert out["remember_b"]["new_candidates"] == 1
    [fact] = out["facts"]
    assert (fact["value"], fact["status"], sorted(fact["sessions"])) == ("Pepper", "candidate", ["a", "b"])
    assert out["recall"][0]["text"] == PEPPER and out["recall"][0]["role"] == "user"
    assert out["forget"]["id"] == fact["id"] and out["forget"]["status"] == "forgotten"
    bad = out["bad"]
    assert bad.is_error
    [text] = [c.text for c in bad.content]
    assert "no fact matches 'nothing like it'" in text and "\n" not in text
    st = out["status"]
    assert st["daemon"] is None  # served in-process
    assert st["counts"]["turns"] == 2 and {k: n for k, n in st["counts"]["facts"].items() if n} == {"forgotten": 1}
    assert "Traceback" not in stderr


def test_mcp_goes_through_the_daemon(daemon, fake_engine, tmp_path):
    async def steps(session):
        await call(session, "remember", text=PEPPER, session="a")
        ask = await call(session, "ask", question="What is my dog's name?")
        return await call(session, "status"), ask

    (status, ask), _ = run_client(steps, tmp_path)
    assert status["daemon"]["pid"] == os.getpid() and status["counts"]["turns"] == 1  # `ask` is not remembered
    assert ask == {"question": "What is my dog's name?", "answer": "echo: What is my dog's name?", "adapter": None}
    assert "Pepper" not in fake_engine.prompts[-1]  # from the weights: nothing recalled into the prompt


@pytest.mark.slow
def test_mcp_ask_answers_from_the_weights(tmp_path):
    """The embedded model, loaded for each `ask` (in-process: no daemon)."""
    async def steps(session):
        return [await call(session, "ask", question="What is the capital of France?") for _ in range(2)]

    (first, second), _ = run_client(steps, tmp_path, timeout=300)
    assert first["answer"] and first["adapter"] is None
    assert second == first  # greedy: the same answer each time
