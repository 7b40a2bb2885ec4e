import json

from typer.testing import CliRunner

from agent.cli import app
from consolidation.registry import Registry
from tests.fakes import publish

runner = CliRunner()


def test_consolidate_needs_now(fake_engine):
    result = runner.invoke(app, ["consolidate"])
    assert result.exit_code == 1 and "--now" in result.output


def test_nothing_to_do_is_success(fake_engine):
    result = runner.invoke(app, ["consolidate", "--now", "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["published"] is False and report["version"] is None
    assert "nothing to do" in report["reason"]
    plain = runner.invoke(app, ["consolidate", "--now"])
    assert plain.exit_code == 0 and "nothing to do" in plain.output


def _publish(home, n_facts):
    reg = Registry(home)
    v = publish(reg, [{"id": f"f{i}"} for i in range(n_facts)], metrics={"recall": 0.95})
    reg.set_current(v)
    return v


def test_adapters_list_show_rollback(agent_home):
    assert "no adapters yet" in runner.invoke(app, ["adapters", "list"]).output
    _publish(agent_home, 2)
    _publish(agent_home, 3)
    rows = json.loads(runner.invoke(app, ["adapters", "list", "--json"]).stdout)
    assert [(r["version"], r["current"], r["facts"]) for r in rows] == [("v0001", False, 2), ("v0002", True, 3)]
    shown = json.loads(runner.invoke(app, ["adapters", "show", "v0001"]).stdout)
    assert shown["version"] == "v0001"
    assert runner.invoke(app, ["adapters", "rollback", "1"]).exit_code == 0
    assert Registry(agent_home).current().name == "v0001"
    bad = runner.invoke(app, ["adapters", "rollback", "v0042"])
    assert bad.exit_code == 1 and "no adapter version" in bad.output
