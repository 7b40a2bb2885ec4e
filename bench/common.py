"""What several benchmarks share: messages said in two sessions, and writing a result file."""

from __future__ import annotations

import json
from pathlib import Path


def turns_in_two_sessions(texts: list[str], tag: str) -> list[dict]:
    """Each text as a user turn in two sessions of its own (`<tag>a-<i>`, `<tag>b-<i>`): enough for the quorum."""
    return [{"session": f"{tag}{s}-{i}", "role": "user", "content": t} for i, t in enumerate(texts) for s in "ab"]


def write_result(path: Path, out: dict, show: dict | None = None) -> None:
    """Print `show` (default: `out`) as JSON, write `out` to `path`, say where."""
    print(json.dumps(out if show is None else show, indent=1))
    path.write_text(json.dumps(out, indent=1) + "\n")
    print(f"results -> {path}")
