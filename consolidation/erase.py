"""Erase forgotten values from the records a consolidation leaves under `$AGENT_HOME`.

Once a round has unlearned a forgotten fact, its value must not survive in any file: adapter
manifests and scope files (every version that held the fact is also marked so it cannot be rolled back to),
consolidation reports and the daemon's run records. The ledger and the turn index erase their
own copies (`memory.Memory.forget`, `Ledger.mark_unlearned`).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Iterable

from config.atomic import atomic_write_json

MARK = "[forgotten]"


def _scrub(obj, pattern: re.Pattern):
    if isinstance(obj, str):
        return pattern.sub(MARK, obj)
    if isinstance(obj, list):
        return [_scrub(x, pattern) for x in obj]
    if isinstance(obj, dict):
        return {k: _scrub(v, pattern) for k, v in obj.items()}
    return obj


def erase_values(home: Path, facts: Iterable) -> list[Path]:
    """Replace the values of `facts` (forgotten `memory.Fact`s) in every JSON record; returns the
    files rewritten. Manifests of versions that held one of them get `"forgotten": [ids]`."""
    facts = [f for f in facts if f.value and f.value != MARK]
    if not facts:
        return []
    pattern = re.compile("|".join(rf"(?<!\w){re.escape(f.value.strip())}(?!\w)" for f in facts), re.IGNORECASE)
    ids = {f.id for f in facts}
    home = Path(home)
    files = [*home.glob("adapters/v*/*.json"), *home.glob("adapters/v*/s*/*.json"), *home.glob("consolidations/*.json"),
             *home.glob("daemon/runs/*.json")]
    changed = []
    for path in files:
        try:
            data = json.loads(path.read_text())
        except (OSError, ValueError):
            continue
        clean = _scrub(data, pattern)
        if path.name == "manifest.json":
            held = sorted(ids & {f.get("id") for f in data.get("facts", []) if isinstance(f, dict)})
            if held:
                clean["forgotten"] = sorted(set(clean.get("forgotten", [])) | set(held))
        if clean != data:
            atomic_write_json(path, clean)
            changed.append(path)
    return changed
