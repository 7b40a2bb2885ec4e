"""`agent chat` with memory, through CliRunner and one shared FakeEngine."""

import copy
from functools import partial
import json
import signal

from typer.testing import CliRunner

from agent.cli import app
from consolidation.adapter_file import write_lora_gguf
from consolidation.registry import Registry
from consolidation.train import LoraTrainConfig, attach_lora, lora_state_dict
from tests.fakes import publish

runner = CliRunner()


def chat(*lines, args=()):
    return runner.invoke(app, ["chat", *args], input="\n".join(lines) + "\n")


def test_turns_are_remembered_and_facts_detected_across_sessions(fake_engine):
    r1 = chat("My dog's name is Pepper.", "/session", "/exit", args=["--session", "s1"])
    assert r1.exit_code == 0, r1.output
    assert "session s1" in r1.output
    r2 = chat("Pepper, my dog, loves the beach.", "/facts", "/exit", args=["--session", "s2"])
    assert "My dog's name is Pepper." in r2.output and "candidate" in r2.output
    facts = json.loads(runner.invoke(app, ["facts", "--json"]).stdout)
    assert [(f["value"], sorted(f["sessions"]), f["status"]) for f in facts] == [("Pepper", ["s1", "s2"], "candidate")]


def test_retrieval_brings_other_sessions_into_the_prompt(fake_engine):
    chat("My dog's name is Pepper.", args=["--session", "s1"])
    chat("What is my dog's name?", args=["--session", "s2"])
    assert "Things the user said earlier:\n- My dog's name is Pepper." in fake_engine.prompts[-1]
    chat("What is my dog's name?", args=["--session", "s3", "--no-retrieval"])
    assert "said earlier" not in fake_engine.prompts[-1]


def test_forget_and_unknown_commands(fake_engine):
    chat("My dog's name is Pepper.", args=["--session", "s1"])
    out = chat("/forget", "/forget Pepper", "/forget nothing-like-it", "/bogus").output
    assert "usage: /forget" in out and "forgot" in out and "no fact matches" in out
    assert "unknown command /bogus" in out


def test_new_adapter_is_picked_up_between_turns(fake_engine, agent_home, tiny_gemma):
    from rich.console import Console

    from agent.backend import LocalBackend
    from agent.repl import ChatSession
    from config import load_settings

    console = Console(record=True, width=200)
    backend = LocalBackend(load_settings(), engine=fake_engine)
    chat_ = ChatSession(load_settings(), backend, console, "s1")
    assert chat_.respond("hello") == "echo: hello"
    state = lora_state_dict(attach_lora(copy.deepcopy(tiny_gemma[0]), LoraTrainConfig(rank=2)))
    reg = Registry(agent_home)
    write = partial(write_lora_gguf, state, architecture="gemma3", n_layers=2, alpha=4)
    reg.set_current(publish(reg, [{"id": "f1"}, {"id": "f2"}], write))  # published mid-session
    assert chat_.respond("hello") == "echo: hello [v0001]"
    assert "now using adapter v0001 (2 facts learned); earlier answers dropped" in console.export_text()
    assert fake_engine.prompts[-1].count("hello") == 1  # the old adapter's answers left the prompt
    reg.set_current(None)
    chat_.respond("hello again")
    assert "adapter removed" in console.export_text()
    backend.close()


def test_session_has_its_own_ctrl_c_handler_and_restores_the_old_one(fake_engine, monkeypatch):
    """Even where SIGINT came ignored (a background job), Ctrl-C raises KeyboardInterrupt in a session."""
    during = []
    stream = fake_engine.stream_answer

    def noting_the_handler(*args, **kwargs):
        during.append(signal.getsignal(signal.SIGINT))
        return stream(*args, **kwargs)

    monkeypatch.setattr(fake_engine, "stream_answer", noting_the_handler)
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        assert chat("hello").exit_code == 0
        assert signal.getsignal(signal.SIGINT) is signal.SIG_IGN
    finally:
        signal.signal(signal.SIGINT, previous)
    assert during == [signal.default_int_handler]
