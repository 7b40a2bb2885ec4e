"""The living agent end to end, as a person would use it (real model, MiniLM, training).

A daemon starts in the background; a REPL in a pseudo-terminal connects to it; sessions are
imported through the daemon; once the user is idle the daemon consolidates; we kill -9 it in
the middle of training, restart it, and it resumes. The REPL, never restarted, then answers a
paraphrased question from the new adapter (announcing the swap), keeps unrelated answers,
runs /commands, stops a streaming answer on Ctrl-C; the official openai client talks to the
same daemon. A few minutes on 2 cores.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from agent.client import read_info
from config import load_settings

pexpect = pytest.importorskip("pexpect")
pytestmark = pytest.mark.slow
DATA = Path(__file__).parent / "data" / "three_facts.jsonl"


def agent(*args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    r = subprocess.run([sys.executable, "-m", "agent", *args], capture_output=True, text=True, timeout=timeout)
    assert r.returncode == 0, r.stdout + r.stderr
    return r


def daemon_status() -> dict:
    return json.loads(agent("daemon", "status", "--json").stdout)


def wait_for(predicate, timeout: float, what: str, every: float = 1.0):
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(every)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def turn(repl, text: str, timeout: float = 120) -> str:
    """Type a line, return everything printed until the next prompt."""
    repl.sendline(text)
    repl.expect_exact("you> ", timeout=timeout)
    return repl.before


def test_daemon_learns_while_idle_survives_kill_and_a_connected_repl_gets_the_new_answer(agent_home, monkeypatch):
    port = free_port()
    monkeypatch.setenv("AGENT_DAEMON__PORT", str(port))  # fixed, so the REPL outlives a daemon restart
    monkeypatch.setenv("AGENT_DAEMON__IDLE_MINUTES", "0.03")  # ~2 s of silence counts as idle
    monkeypatch.setenv("AGENT_DAEMON__CHECK_SECONDS", "1")

    agent("daemon")
    first = read_info(agent_home)
    assert first["port"] == port

    repl = pexpect.spawn(sys.executable, ["-m", "agent", "chat", "--session", "live", "--no-retrieval"],
                         env=dict(os.environ, COLUMNS="200", TERM="dumb", NO_COLOR="1"), encoding="utf-8", timeout=120, dimensions=(50, 200))
    try:
        repl.expect_exact("you> ")
        assert f"daemon http://127.0.0.1:{port}" in repl.before and "adapter none" in repl.before
        before = turn(repl, "What do I call my dog?")
        assert "Pepper" not in before

        # sessions arrive through the daemon; the user goes idle; consolidation starts
        assert json.loads(agent("import", str(DATA), "--json").stdout)["candidates"] == 3
        wait_for(lambda: (daemon_status().get("consolidation") or {}).get("stage") == "training", 600,
                 "training to start")
        os.kill(first["pid"], signal.SIGKILL)  # mid-training
        wait_for(lambda: read_info(agent_home) is None, 10, "the killed daemon to be gone", 0.1)
        from consolidation.registry import Registry

        assert Registry(agent_home).current() is None  # nothing half-trained went live
        runs = [json.loads(p.read_text()) for p in (agent_home / "daemon" / "runs").glob("*.json")]
        assert [r["status"] for r in runs] == ["running"]  # as the killed process left it

        agent("daemon")  # restart: marks the run interrupted and resumes it
        done = wait_for(lambda: (lambda s: s["last_run"] if s["last_run"]["status"] != "running" else None)(
            daemon_status()), 3000, "the resumed consolidation", 3)
        assert done["status"] == "published" and done["trigger"] == "resume" and done["version"] == "v0001", done
        runs = sorted((json.loads(p.read_text()) for p in (agent_home / "daemon" / "runs").glob("*.json")),
                      key=lambda r: r["started"])
        assert [(r["trigger"], r["status"]) for r in runs] == [("idle", "interrupted"), ("resume", "published")]
        assert "interrupted; resuming" in (agent_home / "logs" / "daemon.log").read_text()

        # the same REPL, never restarted: the next turn comes from the new weights (retrieval is off)
        out = turn(repl, "What do I call my dog?")
        assert "now using adapter v0001 (3 facts learned); earlier answers dropped from the prompt" in " ".join(out.split())
        assert "Pepper" in out.split("agent>", 1)[1]
        assert "Paris" in turn(repl, "What is the capital of France?")
        out = turn(repl, "/facts")
        assert "My dog's name is Pepper." in out and "consolidated" in out
        assert "v0001" in turn(repl, "/status")

        # Ctrl-C while an answer streams stops that answer only
        repl.sendline("Tell me a very long story about a dragon who lived in the mountains.")
        repl.expect_exact("agent> ")
        repl.expect(r"\w+")  # the first streamed words
        repl.sendintr()
        repl.expect_exact("(stopped)")
        repl.expect_exact("you> ")
        assert "Paris" in turn(repl, "What is the capital of France?")  # the session goes on

        # the official openai client, on the same daemon
        import openai

        client = openai.OpenAI(base_url=f"http://127.0.0.1:{port}/v1", max_retries=0,
                               api_key=(agent_home / "daemon" / "token").read_text().strip())
        r = client.chat.completions.create(model="hippo", messages=[{"role": "user", "content": "Who do I work for?"}],
                                           extra_body={"retrieval": False})
        assert "Lumen Robotics" in r.choices[0].message.content

        repl.sendline("/exit")
        repl.expect_exact("bye")
        repl.expect(pexpect.EOF)
    finally:
        repl.close(force=True)
        subprocess.run([sys.executable, "-m", "agent", "daemon", "stop"], capture_output=True, timeout=120)
    assert read_info(load_settings().home) is None
