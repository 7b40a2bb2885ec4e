"""Switching models: adapters trained on the previous model stay in the registry but are never
applied to the new one; the base model answers until a consolidation retrains the facts."""

import json

from typer.testing import CliRunner

from agent.cli import app
from config import load_settings
from config.models import model_sha256, resolve_model_path
from consolidation.live import sync_adapter
from consolidation.registry import Registry
from tests import fakes
from tests.fake_engine import FakeEngine

runner = CliRunner()


def publish(home, base_sha256: str):
    reg = Registry(home)
    version = fakes.publish(reg, [{"id": "f1"}], base_model={"sha256": base_sha256})
    reg.set_current(version)
    return version


def test_an_adapter_of_another_model_is_not_applied(agent_home):
    engine = FakeEngine()
    publish(agent_home, "a" * 64)
    assert sync_adapter(engine, load_settings()) == (None, 0)  # no error: the base model answers
    assert engine.adapter is None


def test_status_names_the_adapter_waiting_for_a_retrain(agent_home):
    settings = load_settings()
    publish(agent_home, "a" * 64)
    info = json.loads(runner.invoke(app, ["status", "--json"]).stdout)
    assert (info["adapter"], info["adapter_facts"], info["adapter_of_another_model"]) == (None, 0, "v0001")
    publish(agent_home, model_sha256(resolve_model_path(settings)))
    info = json.loads(runner.invoke(app, ["status", "--json"]).stdout)
    assert (info["adapter"], info["adapter_facts"], info["adapter_of_another_model"]) == ("v0002", 1, None)


def test_the_daemon_schedules_a_retrain_after_a_switch(daemon, agent_home):
    assert daemon.pending() is None  # no candidates, nothing to unlearn
    publish(agent_home, "a" * 64)
    assert daemon.pending() is not None
    publish(agent_home, daemon.engine.base_sha256)
    assert daemon.pending() is None


def test_base_answers_are_cached_per_model_prompt_and_answer_length(tmp_path):
    """An answer cut at 24 tokens is not the base answer to compare a 64-token answer with."""
    from consolidation.bank import cached_answers
    from consolidation.pipeline import baseline_key

    engine, calls = FakeEngine(), []

    def answer(q):
        calls.append(q)
        return "base"

    short, default = load_settings(model={"max_tokens": 24}), load_settings()
    assert baseline_key(engine, short) != baseline_key(engine, default)
    for settings in (default, default, short):
        cached_answers(tmp_path, baseline_key(engine, settings), ["Who wrote Hamlet?"], answer)
    assert len(calls) == 2  # once per answer length
