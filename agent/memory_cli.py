"""Memory commands: `agent import`, `agent facts`, `agent forget`, `agent memory search`.

`register(app)` adds them to the main typer app. User mistakes raise `config.UserError`
(one line, exit 1, no trace) — the main app's command class prints them.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Optional

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from config import UserError, load_settings

console = Console()
_MAX_LISTED = 10
_SURROGATE = re.compile("[\ud800-\udfff]")  # what json.loads makes of an unpaired "\ud800"


def _read_lines(file: str) -> list[str]:
    if file == "-":
        return sys.stdin.read().splitlines()
    p = Path(file).expanduser()
    if not p.exists():
        raise UserError(f"no such file: {file}")
    if p.is_dir():
        raise UserError(f"{file} is a directory, not a JSONL file")
    try:
        return p.read_text(encoding="utf-8").splitlines()
    except UnicodeDecodeError as e:
        raise UserError(f"{file} is not UTF-8 text: {e}") from None
    except OSError as e:
        raise UserError(f"cannot read {file}: {e.strerror or e}") from None


def parse_jsonl(lines: list[str]) -> tuple[list[dict], list[tuple[int, str]]]:
    """(valid turns, [(line number, reason)]) — blank lines are ignored."""
    turns, bad = [], []
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            turns.append(_parse_turn(line))
        except ValueError as e:
            bad.append((n, str(e)))
    return turns, bad


def _parse_turn(line: str) -> dict:
    """The turn on one JSONL line; ValueError with a short reason when it is not one."""
    from memory.core import validate_turn

    try:
        obj = json.loads(line)
    except json.JSONDecodeError as e:
        raise ValueError(f"invalid JSON ({e.msg})") from None
    except RecursionError:
        raise ValueError("invalid JSON (nested too deeply)") from None
    except ValueError as e:  # a number of more than 4300 digits
        raise ValueError(f"invalid JSON ({str(e).split(';')[0]})") from None
    t = validate_turn(obj)
    turn = {"session": t.session, "role": t.role, "content": t.content, "time": t.time}
    for key in ("session", "content"):
        surrogate = _SURROGATE.search(turn[key])
        if surrogate:
            raise ValueError(f"'{key}' holds a lone surrogate (\\u{ord(surrogate[0]):04x}), "
                             "which is not text: UTF-8 cannot store it")
    return turn


def _describe_bad(bad: list[tuple[int, str]]) -> str:
    shown = "; ".join(f"line {n}: {why}" for n, why in bad[:_MAX_LISTED])
    more = f"; and {len(bad) - _MAX_LISTED} more" if len(bad) > _MAX_LISTED else ""
    return shown + more


class _backend:
    """`with _backend() as b:` the daemon when it runs, else the store opened in this process."""

    def __enter__(self):
        from agent.backend import get_backend

        self.backend = get_backend(load_settings())
        return self.backend

    def __exit__(self, *exc) -> None:
        self.backend.close()


def import_turns(
    file: str = typer.Argument(..., help="JSONL file of turns, or - for stdin"),
    skip_bad: bool = typer.Option(False, "--skip-bad", help="import the good lines, skip bad ones"),
    as_json: bool = typer.Option(False, "--json", help="print one JSON object"),
) -> None:
    """Import chat turns ({"session", "role", "content", "time"} per line) and detect facts."""
    lines = _read_lines(file)
    turns, bad = parse_jsonl(lines)
    name = "stdin" if file == "-" else file
    if bad and not skip_bad:
        raise UserError(
            f"{name}: {len(bad)} malformed line(s), nothing imported "
            f"(use --skip-bad to import the rest): {_describe_bad(bad)}"
        )
    from agent.progress import stage_progress

    with _backend() as backend, stage_progress(Console(stderr=True), transient=True) as (progress, _):
        result = backend.import_turns(turns, progress)
    result.update(skipped=len(bad), skipped_lines=[n for n, _ in bad])
    if as_json:
        print(json.dumps(result))
        return
    console.print(
        f"Imported [bold]{result['turns_imported']}[/] turns from {result['sessions']} session(s)"
        + (f", {result['duplicates']} duplicate(s) ignored" if result["duplicates"] else "")
        + (f", skipped {len(bad)} bad line(s): {_describe_bad(bad)}" if bad else "")
        + ".",
        highlight=False,
    )
    console.print(
        f"Facts: {result['new_facts']} new, {result['new_candidates']} newly candidate, "
        f"{result['superseded']} superseded; now {result['facts_observed']} observed, "
        f"{result['candidates']} candidate(s), {result['consolidated']} consolidated.",
        highlight=False,
    )


def facts(
    as_json: bool = typer.Option(False, "--json", help="print a JSON array"),
    status: Optional[list[str]] = typer.Option(
        None, "--status", "-s",
        help="only facts with this status (observed, candidate, consolidated, superseded, "
        "forgotten, rejected); repeatable",
    ),
) -> None:
    """List the facts detected in your conversations."""
    with _backend() as backend:
        found = backend.facts(status or None)
    if as_json:
        print(json.dumps(found, ensure_ascii=False))
        return
    if not found:
        console.print("No facts yet." if not status else f"No {'/'.join(status)} facts.")
        return
    table = Table(title="Facts", show_lines=False)
    for col in ("id", "fact", "status", "sessions", "last seen"):
        table.add_column(col)
    colors = {"candidate": "yellow", "consolidated": "green", "superseded": "dim",
              "forgotten": "dim", "rejected": "red"}
    for f in found:
        st = f["status"] + (f" → {f['superseded_by']}" if f["superseded_by"] else "")
        c = colors.get(f["status"])
        if f["status"] == "rejected" and f.get("note"):
            st += f": {f['note'].removeprefix('refused at the write path: ')}"
        said = str(len(f["sessions"]))
        if f.get("doubted") and not f["sessions"]:  # said only in turns the learned check doubted
            said += f" ({len(f['doubted'])} doubted)"
        table.add_row(f["id"], escape(f["text"]), f"[{c}]{escape(st)}[/]" if c else escape(st), said,
                      f["last_seen"][:16].replace("T", " "))
    console.print(table)


def forget(
    fact: Optional[str] = typer.Argument(None, metavar="ID|TEXT", help="fact id or the sentence that states it"),
    turns: Optional[list[int]] = typer.Option(None, "--turn", help="erase this stored turn instead (repeatable)"),
    containing: Optional[str] = typer.Option(None, "--turns-containing", help="erase every stored turn containing this text"),
    as_json: bool = typer.Option(False, "--json", help="print the result as JSON"),
) -> None:
    """Forget a fact (its value leaves memory now and the weights at the next consolidation), or
    erase stored turns for real (--turn ID, --turns-containing TEXT)."""
    if turns or containing is not None:
        if fact:
            raise UserError("give a fact, or --turn/--turns-containing, not both")
        with _backend() as backend:
            r = backend.erase_turns(turns or [], containing)
        if as_json:
            print(json.dumps(r))
            return
        facts = f"; facts they stated: {', '.join(r['facts_stated'])} (forget them by id)" if r["facts_stated"] else ""
        console.print(f"Erased {len(r['erased_turns'])} turn(s){facts}", highlight=False)
        return
    if not fact:
        raise UserError("name a fact (id or sentence), or --turn ID / --turns-containing TEXT")
    with _backend() as backend:
        f = backend.forget(fact)
    if as_json:
        print(json.dumps(f, ensure_ascii=False))
        return
    console.print(f"Forgot {f['id']}: {escape(f['text'])} ({len(f['turns'])} turn(s) removed from retrieval)",
                  highlight=False)


def search(
    query: str = typer.Argument(..., help="what to look for"),
    k: int = typer.Option(5, "--k", "-k", min=1, max=100, help="number of turns"),
    as_json: bool = typer.Option(False, "--json", help="print a JSON array"),
) -> None:
    """Show the stored turns nearest in meaning to QUERY."""
    with _backend() as backend:
        hits = backend.search(query, k)
    if as_json:
        print(json.dumps(hits, ensure_ascii=False))
        return
    if not hits:
        console.print("No turns stored yet.")
        return
    table = Table(title=f"Nearest turns to {query!r}")
    for col in ("score", "session", "role", "text"):
        table.add_column(col)
    for h in hits:
        table.add_row(f"{h['score']:.3f}", escape(h["session"]), h["role"], escape(h["text"]))
    console.print(table)


def register(app: typer.Typer) -> None:
    """Add `import`, `facts`, `forget` and the `memory` group (`memory search`) to `app`."""
    app.command("import")(import_turns)
    app.command("facts")(facts)
    app.command("forget")(forget)
    group = typer.Typer(help="Short-term memory: search stored turns.", no_args_is_help=True)
    group.command("search")(search)
    app.add_typer(group, name="memory")
