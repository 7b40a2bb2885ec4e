import json

import pytest
from typer.testing import CliRunner

from agent.cli import app
from config import UserError, load_settings


def test_defaults_follow_agent_home(agent_home):
    s = load_settings()
    assert s.home == agent_home
    assert s.model.path is None and s.model.prompt_format == "auto"
    assert s.memory.min_sessions == 2


def test_env_overrides_nested(monkeypatch):
    monkeypatch.setenv("AGENT_MODEL__N_CTX", "4096")
    monkeypatch.setenv("AGENT_MEMORY__MIN_SESSIONS", "3")
    s = load_settings()
    assert s.model.n_ctx == 4096 and s.memory.min_sessions == 3


def test_toml_file_and_env_priority(agent_home, monkeypatch):
    agent_home.mkdir(parents=True)
    (agent_home / "config.toml").write_text('[model]\nmax_tokens = 99\nn_ctx = 1024\n[daemon]\nport = 9999\n')
    monkeypatch.setenv("AGENT_MODEL__N_CTX", "3000")
    s = load_settings()
    assert s.model.max_tokens == 99  # from the file
    assert s.model.n_ctx == 3000  # env beats the file
    assert s.daemon.port == 9999


def test_agent_cache_env(tmp_path, monkeypatch):
    monkeypatch.setenv("AGENT_CACHE", str(tmp_path / "c"))
    assert load_settings().cache == tmp_path / "c"


def test_config_command_json(agent_home):
    result = CliRunner().invoke(app, ["config", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["home"] == str(agent_home)
    assert set(data) >= {"model", "memory", "consolidation", "daemon", "cache"}


COMMANDS = [["config"], ["status"], ["chat"], ["ask", "x"], ["import", "-"], ["facts"], ["forget", "x"],
            ["memory", "search", "x"], ["consolidate", "--now"], ["adapters", "list"], ["daemon", "status"]]


def one_line_error(args) -> str:
    result = CliRunner().invoke(app, args, input="")
    assert result.exit_code == 1, result.output
    lines = result.output.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.output
    return lines[0]


@pytest.mark.parametrize("args", COMMANDS, ids=" ".join)
def test_bad_config_value_is_one_line_error_on_every_command(agent_home, args):
    agent_home.mkdir(parents=True)
    (agent_home / "config.toml").write_text('[model]\nn_ctx = "lots"\n')
    assert one_line_error(args) == f"error: {agent_home / 'config.toml'}: model.n_ctx: expected an integer, got 'lots'"


@pytest.mark.parametrize(("toml", "expected"), [
    ("[model]\nn_ctx = 100\n", "model.n_ctx: expected a number >= 128, got 100"),
    ('[model]\nprompt_format = "[bold]x"\n', "model.prompt_format: expected one of 'auto', 'plain' or 'chat', got '[bold]x'"),
    ('[consolidation]\nlayers = [1, "a"]\n', "consolidation.layers[1]: expected an integer, got 'a'"),
    ("model = 3\n", "model: expected a table, got 3"),
])
def test_bad_config_values_say_what_was_expected(agent_home, toml, expected):
    agent_home.mkdir(parents=True)
    (agent_home / "config.toml").write_text(toml)
    assert one_line_error(["config"]) == f"error: {agent_home / 'config.toml'}: {expected}"


def test_invalid_toml_is_one_line_error(agent_home):
    agent_home.mkdir(parents=True)
    (agent_home / "config.toml").write_text("[model]\nn_ctx = 4096\n[daemon\n")
    line = one_line_error(["status"])
    assert line.startswith(f"error: {agent_home / 'config.toml'}: invalid TOML: ")
    assert "(at line 3, column 8)" in line


def test_bad_env_value_names_the_variable(agent_home, monkeypatch):
    agent_home.mkdir(parents=True)
    (agent_home / "config.toml").write_text('[model]\nn_ctx = "lots"\n')  # the environment wins
    monkeypatch.setenv("AGENT_MODEL__N_CTX", "abc")
    assert one_line_error(["config"]) == "error: AGENT_MODEL__N_CTX: model.n_ctx: expected an integer, got 'abc'"


def test_unparsable_env_json_names_the_variable(monkeypatch):
    monkeypatch.setenv("AGENT_CONSOLIDATION__RANK", "8")
    monkeypatch.setenv("AGENT_CONSOLIDATION__TARGET_MODULES", "q_proj")  # a list must be JSON
    assert one_line_error(["config"]).startswith(
        "error: AGENT_CONSOLIDATION__TARGET_MODULES: expected JSON for a list or a table (")


def test_load_settings_raises_user_error(agent_home):
    agent_home.mkdir(parents=True)
    (agent_home / "config.toml").write_text("[daemon]\nport = 70000\n")
    with pytest.raises(UserError, match=r"config\.toml: daemon\.port: expected a number <= 65535, got 70000$"):
        load_settings()


def two_homes(agent_home, tmp_path):
    """$AGENT_HOME with max_tokens = 11 in its config.toml, another home with 22."""
    agent_home.mkdir(parents=True)
    (agent_home / "config.toml").write_text("[model]\nmax_tokens = 11\n")
    other = tmp_path / "other"
    other.mkdir()
    (other / "config.toml").write_text("[model]\nmax_tokens = 22\n")
    return other


def test_home_argument_reads_that_homes_config_file(agent_home, tmp_path):
    other = two_homes(agent_home, tmp_path)
    s = load_settings(home=other)
    assert s.home == other and s.config_file == other / "config.toml" and s.model.max_tokens == 22
    assert load_settings().model.max_tokens == 11


def test_agent_home_env_reads_that_homes_config_file(agent_home, tmp_path, monkeypatch):
    other = two_homes(agent_home, tmp_path)
    monkeypatch.setenv("AGENT_HOME", str(other))
    assert load_settings().model.max_tokens == 22
