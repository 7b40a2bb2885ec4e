"""`agent chat` in a pseudo-terminal, in-process (no daemon), as a person types it.

The slow test uses real llama.cpp and MiniLM (no training); the fast one a fake engine.
The daemon-backed REPL is in test_daemon_e2e.py.
"""

from __future__ import annotations

import os
import signal
import sys
from pathlib import Path

import pytest

pexpect = pytest.importorskip("pexpect")
REPO = Path(__file__).resolve().parent.parent


def spawn(*args: str):
    return pexpect.spawn(sys.executable, ["-m", "agent", "chat", *args], env=dict(os.environ, COLUMNS="200", TERM="dumb", NO_COLOR="1"),
                         encoding="utf-8", timeout=120, dimensions=(50, 200))


def turn(repl, text: str) -> str:
    repl.sendline(text)
    repl.expect_exact("you> ")
    return repl.before


@pytest.mark.slow
def test_repl_remembers_streams_and_obeys_commands():
    repl = spawn("--session", "monday")
    try:
        repl.expect_exact("you> ")
        assert "in-process" in repl.before and "session monday" in repl.before
        assert "agent>" in turn(repl, "My dog's name is Pepper and she loves the beach.")
        out = turn(repl, "/facts")
        assert "My dog's name is Pepper." in out and "observed" in out  # one session so far
        assert "session monday" in turn(repl, "/session")
        assert "/consolidate" in turn(repl, "/help")
        assert "unknown command /nope" in turn(repl, "/nope")

        # Ctrl-C while an answer streams stops it; Ctrl-C at the prompt does not leave
        repl.sendline("List the numbers from one to fifty in words.")
        repl.expect_exact("agent> ")
        repl.expect(r"\d")
        repl.sendintr()
        repl.expect_exact("(stopped)")
        repl.expect_exact("you> ")
        repl.sendintr()
        repl.expect_exact("type /exit to leave")
        repl.expect_exact("you> ")
        assert "Paris" in turn(repl, "What is the capital of France?")

        # a second REPL cannot open the same store while this one owns it
        other = spawn()
        other.expect(pexpect.EOF)
        assert "in use by process" in other.before
        other.close()
        assert other.exitstatus == 1

        repl.sendline("/exit")
        repl.expect_exact("bye")
        repl.expect(pexpect.EOF)
    finally:
        repl.close(force=True)

    repl = spawn("--session", "tuesday")  # the next day: the fact is repeated in a new session
    try:
        repl.expect_exact("you> ")
        turn(repl, "Pepper, my dog, chased a seagull today.")
        assert "candidate" in turn(repl, "/facts")
        repl.sendeof()  # Ctrl-D leaves too
        repl.expect_exact("bye")
        repl.expect(pexpect.EOF)
    finally:
        repl.close(force=True)


ENDLESS_CHAT = """
import itertools, signal, sys, time
import agent.runtime
from agent.cli import main
from tests.fake_engine import FakeEngine

class Endless(FakeEngine):  # an answer only Ctrl-C ends
    def stream_answer(self, question, history=(), context=None, max_tokens=None):
        for n in itertools.count():
            time.sleep(0.02)
            yield f" {n}"

agent.runtime.open_engine = lambda settings, adapter=None, use_registry=True: Endless()
print("SIGINT ignored at start:", signal.getsignal(signal.SIGINT) is signal.SIG_IGN, flush=True)
sys.argv = ["agent", "chat"]
main()
"""


def test_ctrl_c_stops_an_answer_when_sigint_came_ignored():
    """Started as a background job (CI, a supervisor) the REPL inherits SIGINT ignored."""
    repl = pexpect.spawn(sys.executable, ["-c", ENDLESS_CHAT], cwd=str(REPO), encoding="utf-8", timeout=60,
                         env=dict(os.environ, COLUMNS="200", TERM="dumb", NO_COLOR="1"), dimensions=(50, 200),
                         preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN))
    try:
        repl.expect_exact("SIGINT ignored at start: True")
        repl.expect_exact("you> ")
        repl.sendline("Count for ever.")
        repl.expect(r"agent> 0 1 2 ")
        repl.sendintr()
        repl.expect_exact("(stopped)", timeout=10)
        repl.expect_exact("you> ")
        repl.sendintr()  # at the prompt: the session goes on
        repl.expect_exact("type /exit to leave")
        repl.expect_exact("you> ")
        repl.sendline("/exit")
        repl.expect_exact("bye")
        repl.expect(pexpect.EOF)
    finally:
        repl.close(force=True)
