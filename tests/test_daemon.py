"""The daemon's API, process model and CLI routing, with the shared FakeEngine (fast).

The daemon runs in a thread of the test process; CLI commands find it through daemon.json
like they would from another terminal. The real-model version is tests/test_daemon_e2e.py.
"""

from __future__ import annotations

import json
import stat
import threading
import time

import pytest
from typer.testing import CliRunner

from agent.cli import app
from agent.client import DaemonClient, DaemonError, info_path, read_info, token_path
from config import UserError, load_settings

runner = CliRunner()
THREE_FACTS = "tests/data/three_facts.jsonl"


@pytest.fixture
def blocking_extractor(monkeypatch):
    """The daemon's extractor holds each batch until the test sets `release`."""
    from tests.fakes import BlockingExtractor

    BlockingExtractor.entered, BlockingExtractor.release = threading.Event(), threading.Event()
    monkeypatch.setenv("AGENT_MEMORY__EXTRACTOR", "tests.fakes:BlockingExtractor")
    yield BlockingExtractor
    BlockingExtractor.release.set()


def client() -> DaemonClient:
    c = DaemonClient.find(load_settings())
    assert c is not None
    return c


def test_daemon_owns_the_store_and_publishes_its_address(daemon, agent_home):
    info = read_info(agent_home)
    assert info["port"] == daemon.port and info["host"] == "127.0.0.1"
    assert stat.S_IMODE(token_path(agent_home).stat().st_mode) == 0o600
    from memory import Memory

    with pytest.raises(UserError, match="in use by process"):  # a second writer is refused
        Memory(load_settings())


def test_token_is_required(daemon):
    c = client()
    c.token = "wrong"
    with pytest.raises(DaemonError, match="token"):
        c.request("GET", "/v1/hippo/status")
    assert client().request("GET", "/health")["ok"]
    assert client().request("GET", "/v1/hippo/adapter") == {"adapter": None, "adapter_facts": 0}


def test_cli_commands_go_through_the_daemon(daemon, fake_engine):
    r = runner.invoke(app, ["import", THREE_FACTS, "--json"])
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["candidates"] == 3
    facts = json.loads(runner.invoke(app, ["facts", "--json"]).stdout)
    assert {f["value"] for f in facts if f["status"] == "candidate"} == {"Pepper", "Tromsø", "Lumen Robotics"}
    r = runner.invoke(app, ["ask", "--json", "What is my dog's name?"])
    assert json.loads(r.stdout)["answer"] == "echo: What is my dog's name?"
    assert "Things the user said earlier:\n- " in fake_engine.prompts[-1]  # retrieval from the store
    runner.invoke(app, ["ask", "--no-retrieval", "What is my dog's name?"])
    assert "said earlier" not in fake_engine.prompts[-1]
    status = json.loads(runner.invoke(app, ["status", "--json"]).stdout)
    assert status["daemon"]["pid"] == read_info(load_settings().home)["pid"]
    assert status["counts"]["turns"] == 11  # ask does not remember
    r = runner.invoke(app, ["forget", "Pepper"])
    assert r.exit_code == 0 and "Forgot" in r.output
    r = runner.invoke(app, ["forget", "nothing like it"])
    assert r.exit_code == 1 and "no fact matches" in r.output


def test_chat_turns_are_remembered_and_detected_by_the_daemon(daemon):
    c = client()
    for session in ("a", "b"):
        meta, pieces = c.chat({"messages": [{"role": "user", "content": "My dog's name is Pepper."}],
                               "session": session})
        assert "".join(pieces).strip() == "echo: My dog's name is Pepper."
        assert meta["session"] == session
    daemon.detect()  # the queued `detect` job may not have run yet
    facts = c.request("GET", "/v1/hippo/facts?status=candidate")
    assert [(f["value"], sorted(f["sessions"])) for f in facts] == [("Pepper", ["a", "b"])]


def test_consolidate_with_nothing_to_do_streams_a_report(daemon):
    r = runner.invoke(app, ["consolidate", "--now", "--json"])
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["reason"].startswith("nothing to do")
    runs = daemon.records.all()
    assert [(x["trigger"], x["status"]) for x in runs] == [("request", "nothing")]


def test_idle_check_queues_a_consolidation_only_when_idle_and_needed(daemon, monkeypatch):
    queued = []
    monkeypatch.setattr(daemon, "begin_consolidation", lambda trigger, force=False: queued.append(trigger))
    daemon.idle_check()
    assert queued == []  # nothing to consolidate
    daemon.import_turns([json.loads(x) for x in open(THREE_FACTS)])
    daemon.idle_check()
    assert queued == []  # the user was just active
    daemon.last_activity -= daemon.settings.daemon.idle_minutes * 60 + 1
    daemon.idle_check()
    assert queued == ["idle"]


def test_interrupted_run_is_resumed_at_start(fake_engine, monkeypatch, agent_home):
    from agent.daemon import Daemon, Run, RunRecords

    RunRecords(agent_home).start(Run("20260101T000000-idle", "idle"))  # as left by a kill -9
    monkeypatch.setenv("AGENT_DAEMON__PORT", "0")
    d = Daemon(load_settings())
    resumed = []
    monkeypatch.setattr(d, "begin_consolidation", lambda trigger, force=False: resumed.append(trigger))
    d.start()
    try:
        assert resumed == ["resume"]
        assert [r["status"] for r in d.records.all()] == ["interrupted"]
    finally:
        d._shutdown()
    assert not info_path(agent_home).exists()


def test_jobs_are_the_daemons_own_methods_registered_at_start(fake_engine, monkeypatch, agent_home):
    from agent.daemon import Daemon

    monkeypatch.setenv("AGENT_DAEMON__PORT", "0")
    monkeypatch.setenv("AGENT_DAEMON__NIGHTLY", "03:00")
    monkeypatch.setenv("AGENT_DAEMON__DETECT_DELAY_SECONDS", "0")
    d = Daemon(load_settings())
    d.start()
    try:
        assert sorted(j.id for j in d.scheduler.get_jobs()) == ["idle-check", "nightly"]
        assert not list((agent_home / "daemon").glob("*.sqlite"))  # the schedule lives in memory only
        d.memory.add_turns([json.loads(x) for x in open(THREE_FACTS)])
        d.queue_detect()  # the `detect` job runs at once (no delay) and finds the three facts
        deadline = time.time() + 10
        while d.memory.pending_count() and time.time() < deadline:
            time.sleep(0.05)
        assert len(d.memory.facts("candidate")) == 3
    finally:
        d._shutdown()


def test_both_backends_implement_the_one_interface():
    import inspect

    from agent.backend import Backend, DaemonBackend, LocalBackend

    members = [n for n, f in vars(Backend).items() if inspect.isfunction(f) and not n.startswith("_")]
    assert {"open", "chat", "adapter", "consolidate", "status", "close"} <= set(members)
    for name in members:
        want = inspect.signature(getattr(Backend, name))
        assert inspect.signature(getattr(LocalBackend, name)) == want, name
        assert inspect.signature(getattr(DaemonBackend, name)) == want, name


def test_second_daemon_is_refused(daemon, agent_home):
    from agent.daemon import Daemon

    with pytest.raises(UserError, match="in use by process"):  # same process here: the store lock refuses
        Daemon(load_settings()).start()


def test_daemon_status_without_daemon():
    r = runner.invoke(app, ["daemon", "status", "--json"])
    assert r.exit_code == 0 and json.loads(r.stdout) == {"running": False}
    assert "no daemon running" in runner.invoke(app, ["daemon", "stop"]).output


def test_detection_extracts_outside_the_memory_lock(blocking_extractor, daemon):
    """While the extractor works on a batch, chat memory calls (recall, facts) are not blocked."""
    daemon.memory.add_turns([{"session": "s1", "role": "user", "content": "i live in leeds and work at the bakery"}])
    worker = threading.Thread(target=daemon.detect)
    worker.start()
    assert blocking_extractor.entered.wait(10)
    done = threading.Event()
    threading.Thread(target=lambda: (daemon.memory.facts(), daemon.memory.search("leeds", 1), done.set()),
                     daemon=True).start()
    assert done.wait(5), "a memory call waited for the extractor"
    blocking_extractor.release.set()
    worker.join(10)
    assert daemon.memory.pending_turns() == []


def test_an_import_streams_its_progress_and_is_durable_when_acknowledged(daemon):
    from agent.backend import DaemonBackend

    turns = [json.loads(line) for line in open(THREE_FACTS)]
    stages = []
    report = DaemonBackend(client()).import_turns(turns, lambda stage, done, total: stages.append((stage, done, total)))
    assert report["turns_imported"] == len(turns) and report["candidates"] == 3
    assert ("embedding turns", len(turns), len(turns)) in stages and any(s == "detecting facts" for s, _, _ in stages)
    assert daemon.memory.stats()["turns"] == len(turns)


@pytest.fixture
def blocking_embedder(monkeypatch):
    """The daemon's embedder holds every big batch until the test sets `release` (request it before `daemon`)."""
    from tests.fakes import BlockingEmbedder

    BlockingEmbedder.entered, BlockingEmbedder.release = threading.Event(), threading.Event()
    monkeypatch.setenv("AGENT_MEMORY__EMBEDDER", "tests.fakes:BlockingEmbedder")
    yield BlockingEmbedder
    BlockingEmbedder.release.set()


def test_chat_is_answered_while_a_big_import_is_embedding(blocking_embedder, daemon):
    turns = [{"session": f"s{i % 50}", "role": "user", "content": f"note number {i}"} for i in range(500)]
    result = {}
    importer = threading.Thread(target=lambda: result.update(client().request("POST", "/v1/hippo/import",
                                                                              {"turns": turns})))
    importer.start()
    assert blocking_embedder.entered.wait(10)
    _, pieces = client().chat({"messages": [{"role": "user", "content": "hello?"}], "session": "x"})
    assert "".join(pieces).strip() == "echo: hello?"  # answered while the import is held
    assert not result
    blocking_embedder.release.set()
    importer.join(20)
    assert result["turns_imported"] == 500
