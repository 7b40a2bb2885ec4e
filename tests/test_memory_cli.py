"""`agent import / facts / forget / memory search`, restart in a new process, the lock."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from typer.testing import CliRunner

from agent.cli import app

REPO = Path(__file__).resolve().parent.parent
runner = CliRunner()


def cli(*args, input=None):
    return runner.invoke(app, list(args), input=input)


def line(session, role, content, time=None):
    d = {"session": session, "role": role, "content": content}
    if time:
        d["time"] = time
    return json.dumps(d)


GOOD = [
    line("s1", "user", "Hi! My dog's name is Pepper.", "2024-01-01T10:00:00"),
    line("s1", "assistant", "Nice! I work at Google.", "2024-01-01T10:00:05"),
    line("s2", "user", "Pepper, my dog, loves the beach.", "2024-01-05T10:00:00Z"),
    line("s2", "user", "I live in Oslo.", "2024-01-05T10:01:00+01:00"),
]


def write(tmp_path, lines, name="chat.jsonl"):
    p = tmp_path / name
    p.write_text("\n".join(lines) + "\n")
    return p


def test_import_good_file_json(tmp_path):
    r = cli("import", str(write(tmp_path, GOOD)), "--json")
    assert r.exit_code == 0, r.output
    out = json.loads(r.stdout)
    assert out["turns_imported"] == 4 and out["skipped"] == 0 and out["sessions"] == 2
    assert out["candidates"] == 1 and out["facts_observed"] == 1


def test_import_human_output(tmp_path):
    r = cli("import", str(write(tmp_path, GOOD)))
    assert r.exit_code == 0 and "Imported 4 turns" in r.stdout


def test_import_bad_lines_all_or_nothing(tmp_path):
    lines = GOOD[:2] + ["{not json", line("s3", "robot", "hi"), GOOD[2],
                        json.dumps({"session": "s3", "role": "user"}), line("s4", "user", "x", "yesterday")]
    r = cli("import", str(write(tmp_path, lines)))
    assert r.exit_code == 1
    err = r.stderr.strip()
    assert "\n" not in err and "Traceback" not in r.output
    for n in (3, 4, 6, 7):
        assert f"line {n}" in err
    assert "line 1:" not in err and "line 5:" not in err
    r = cli("facts", "--json")
    assert json.loads(r.stdout) == []
    r = cli("memory", "search", "dog", "--json")
    assert json.loads(r.stdout) == []


def test_import_skip_bad(tmp_path):
    lines = GOOD[:2] + ["{not json"] + GOOD[2:]
    r = cli("import", str(write(tmp_path, lines)), "--skip-bad", "--json")
    assert r.exit_code == 0, r.output
    out = json.loads(r.stdout)
    assert out["turns_imported"] == 4 and out["skipped"] == 1 and out["skipped_lines"] == [3]


@pytest.mark.parametrize(("bad", "reason"), [
    ("[" * 100000, "invalid JSON (nested too deeply)"),
    ('{"session": "s", "role": "user", "content": "a\\ud800b"}',
     "'content' holds a lone surrogate (\\ud800), which is not text: UTF-8 cannot store it"),
    ('{"session": "\\udfff", "role": "user", "content": "hi"}',
     "'session' holds a lone surrogate (\\udfff), which is not text: UTF-8 cannot store it"),
    ("1" * 5000, "invalid JSON (Exceeds the limit (4300 digits) for integer string conversion: value has 5000 digits)"),
], ids=["deeply-nested", "lone-surrogate-content", "lone-surrogate-session", "5000-digits"])
def test_import_hostile_line_is_one_error_line_or_skipped(tmp_path, bad, reason):
    path = write(tmp_path, GOOD[:1] + [bad] + GOOD[1:])
    r = cli("import", str(path))
    assert r.exit_code == 1
    expected = f"error: {path}: 1 malformed line(s), nothing imported (use --skip-bad to import the rest): line 2: {reason}"
    assert r.output.splitlines() == [expected]
    r = cli("import", str(path), "--skip-bad", "--json")
    assert r.exit_code == 0, r.output
    out = json.loads(r.stdout)
    assert out["turns_imported"] == 4 and out["skipped_lines"] == [2]


def test_surrogate_pairs_are_text(tmp_path):
    pair = '{"session": "s1", "role": "user", "content": "I love \\ud83d\\ude00 and cats."}'  # one emoji
    r = cli("import", str(write(tmp_path, [pair])), "--json")
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["turns_imported"] == 1


def test_import_stdin_and_missing_file(tmp_path):
    r = cli("import", "-", "--json", input="\n".join(GOOD) + "\n")
    assert r.exit_code == 0 and json.loads(r.stdout)["turns_imported"] == 4
    r = cli("import", str(tmp_path / "nope.jsonl"))
    assert r.exit_code == 1 and "no such file" in r.stderr


def test_facts_json_shape_status_filter_and_forget(tmp_path):
    cli("import", str(write(tmp_path, GOOD)))
    r = cli("facts", "--json")
    facts = json.loads(r.stdout)
    assert len(facts) == 2
    keys = {"id", "text", "attribute", "value", "sessions", "status", "first_seen", "last_seen"}
    assert all(keys <= set(f) for f in facts)
    dog = next(f for f in facts if f["value"] == "Pepper")
    assert dog == {**dog, "text": "My dog's name is Pepper.", "attribute": "dog's name",
                   "sessions": ["s1", "s2"], "status": "candidate"}
    assert dog["first_seen"].startswith("2024-01-01T10:00:00")
    only = json.loads(cli("facts", "--json", "--status", "candidate").stdout)
    assert [f["id"] for f in only] == [dog["id"]]
    assert cli("facts", "--status", "bogus").exit_code == 1
    assert "Pepper" in cli("facts").stdout
    r = cli("forget", dog["id"])
    assert r.exit_code == 0 and "Forgot" in r.stdout
    assert json.loads(cli("facts", "--json", "--status", "forgotten").stdout)[0]["id"] == dog["id"]
    hits = json.loads(cli("memory", "search", "Pepper dog", "--k", "5", "--json").stdout)
    assert hits and all("Pepper" not in h["text"] for h in hits)
    r = cli("forget", "the moon is cheese")
    assert r.exit_code == 1 and "no fact" in r.stderr


def test_memory_search(tmp_path):
    cli("import", str(write(tmp_path, GOOD)))
    hits = json.loads(cli("memory", "search", "where do I live Oslo", "--k", "2", "--json").stdout)
    assert len(hits) == 2 and hits[0]["text"] == "I live in Oslo."
    assert {"session", "role", "text", "score", "time"} <= set(hits[0])
    assert "Oslo" in cli("memory", "search", "Oslo").stdout


def _py(code: str, env=None, **kw):
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True,
                          text=True, cwd=REPO, env={**os.environ, **(env or {})}, timeout=120, **kw)


def test_survives_restart_in_new_process(tmp_path):
    cli("import", str(write(tmp_path, GOOD)))
    p = _py("""
        import json
        from memory import Memory
        with Memory() as m:
            print(json.dumps({"facts": [(f.value, f.status) for f in m.facts()],
                              "turns": len(m.turns()), "indexed": m.store.count(),
                              "hit": m.search("dog at the beach", 1)[0].text}))
    """)
    assert p.returncode == 0, p.stderr
    out = json.loads(p.stdout.strip().splitlines()[-1])
    assert sorted(out["facts"]) == [["Oslo", "observed"], ["Pepper", "candidate"]]
    assert out["turns"] == 4 and out["indexed"] == 4 and "Pepper" in out["hit"]


def test_second_process_gets_clear_lock_error(tmp_path):
    holder = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent("""
            import sys, time
            from memory import Memory
            m = Memory(); print("ready", flush=True); sys.stdin.readline(); m.close()
        """)],
        cwd=REPO, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "ready"
        r = cli("facts")
        assert r.exit_code == 1
        assert f"memory store is in use by process PID {holder.pid}" in r.stderr
        assert "stop it or use the daemon" in r.stderr
    finally:
        holder.stdin.write("\n")
        holder.stdin.flush()
        holder.wait(timeout=60)
    assert cli("facts").exit_code == 0  # released on close
