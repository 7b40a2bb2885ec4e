"""The CLI contract, end to end through CliRunner (FakeEngine: no model load)."""

import json

import pytest
from typer.testing import CliRunner

from agent.cli import app

runner = CliRunner()


def test_ask_json_one_line_per_question(fake_engine):
    result = runner.invoke(app, ["ask", "--json", "What is the capital of France?", "Second?"])
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [d["question"] for d in lines] == ["What is the capital of France?", "Second?"]
    assert lines[0] == {"question": "What is the capital of France?",
                        "answer": "echo: What is the capital of France?", "adapter": None}


def test_ask_reads_stdin_lines(fake_engine):
    result = runner.invoke(app, ["ask", "--json"], input="one?\n\n two? \n")
    assert result.exit_code == 0
    assert [json.loads(x)["question"] for x in result.stdout.splitlines()] == ["one?", "two?"]


@pytest.mark.parametrize("stdin", ["", "\n  \n"])
def test_ask_empty_input_is_usage_error(fake_engine, stdin):
    result = runner.invoke(app, ["ask"], input=stdin)
    assert result.exit_code == 2
    assert "no question given" in result.output


def test_ask_accepts_no_retrieval(fake_engine):
    assert runner.invoke(app, ["ask", "--no-retrieval", "x"]).exit_code == 0


def test_chat_embeds_what_choosing_a_shard_needs_before_retrieval(fake_engine):
    """Retrieval embeds the question; the scope embeds it with what else it needs in one pass first."""
    from types import SimpleNamespace

    embedded = []
    fake_engine.scope = SimpleNamespace(embed=embedded.append)
    assert runner.invoke(app, ["ask", "How old is Ana?"]).exit_code == 0
    assert runner.invoke(app, ["ask", "--no-retrieval", "Where does Ana live?"]).exit_code == 0
    assert embedded == ["How old is Ana?"]  # without retrieval, choosing the shard embeds them itself


def test_ask_missing_adapter_one_line_error(fake_engine):
    result = runner.invoke(app, ["ask", "--adapter", "/nonexistent.gguf", "x"])
    assert result.exit_code == 1
    assert result.output.strip().splitlines() == ["error: adapter file not found: /nonexistent.gguf"]


def test_ask_adapter_directory_one_line_error(fake_engine, tmp_path):
    result = runner.invoke(app, ["ask", "--adapter", str(tmp_path), "x"])
    assert result.exit_code == 1
    assert result.output.splitlines() == [f"error: {tmp_path} is a directory, expected a .gguf LoRA file"]


def test_ask_random_bytes_adapter(fake_engine, tmp_path):
    bad = tmp_path / "random.gguf"
    bad.write_bytes(bytes(range(256)) * 40)
    result = runner.invoke(app, ["ask", "--adapter", str(bad), "x"])
    assert result.exit_code == 1
    assert "not a valid GGUF" in result.output and "Traceback" not in result.output


def test_no_adapter_and_adapter_conflict(fake_engine, tmp_path):
    result = runner.invoke(app, ["ask", "--no-adapter", "--adapter", str(tmp_path / "a.gguf"), "x"])
    assert result.exit_code == 1 and "exclude" in result.output


def test_status_json(agent_home):
    result = runner.invoke(app, ["status", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["adapter"] is None and data["data_dir"] == str(agent_home)
    assert data["model"].endswith(".gguf")


def test_bad_model_path_is_user_error(monkeypatch, tmp_path):
    monkeypatch.setenv("AGENT_MODEL__PATH", str(tmp_path / "missing.gguf"))
    result = runner.invoke(app, ["status"])
    assert result.exit_code == 1 and "model file not found" in result.output


def test_chat_repl_commands(fake_engine):
    result = runner.invoke(app, ["chat"], input="/help\nhello there\n/bogus\n/exit\n")
    assert result.exit_code == 0, result.output
    assert "/exit" in result.output  # help text
    assert "echo: hello there" in result.output
    assert "unknown command /bogus" in result.output
    assert result.output.rstrip().endswith("bye")


def test_chat_keeps_history(fake_engine):
    runner.invoke(app, ["chat"], input="first\nsecond\n")
    assert "User: first\nAssistant: echo: first" in fake_engine.prompts[-1]
