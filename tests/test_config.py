import json

from typer.testing import CliRunner

from agent.cli import app
from config import load_settings


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


def test_bad_config_value_is_one_line_error(agent_home):
    agent_home.mkdir(parents=True)
    (agent_home / "config.toml").write_text('[model]\nn_ctx = "lots"\n')
    result = CliRunner().invoke(app, ["config"])
    assert result.exit_code != 0
