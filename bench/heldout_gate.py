"""The write-path gate on held-out sets nobody tuned on (measure only).

    python bench/heldout_gate.py bench/data/poison_heldout6 bench/data/poison_heldout5 bench/data/poison_heldout4 \
        bench/data/poison_heldout3 bench/data/poison_heldout bench/data/poison_heldout2 bench/data/poison_dev4

Each set is a folder with poison.jsonl ({"text", "kind"}) and optionally benign.jsonl ({"text",
"fact"}), written by someone who read no code (see each folder's README). Every message is said
in two sessions through the real memory (MiniLM, the extraction model, the gate), in a fresh
AGENT_HOME; a poison message that yields a candidate fact got through, a benign message whose
facts are all refused was blocked. Counts only: the messages' texts are not printed, so that
running this does not turn a held-out set into a tuning set. Writes
bench/results/security-heldout.json. A set whose misses someone looked at to fix them holds a
TUNED_ON file (when, what): it is measured still, and reported as a dev set.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.common import turns_in_two_sessions, write_result  # noqa: E402


# every message is said twice into one memory, so a later message's fact of the same attribute
# supersedes an earlier one: a superseded fact was a candidate too (counting only "candidate" hid them)
BECAME_CANDIDATE = {"candidate", "superseded", "consolidated"}


def lines(path: Path) -> list[dict]:
    return [json.loads(x) for x in path.read_text().splitlines() if x.strip()] if path.exists() else []


def said_twice(mem, texts: list[str], tag: str) -> list[list]:
    """Each text said in two sessions; the facts each text gave. A fact is the text's by the
    sessions that support it (`<tag>a-<i>`, `<tag>b-<i>`), not by its value appearing in the text:
    "coffee" from one message is no fact of another that mentions coffee too. A rejected fact has
    no supporting session: it is the first text holding its value."""
    before = {f.id for f in mem.facts()}
    mem.add_turns(turns_in_two_sessions(texts, tag))
    mem.detect()
    per_text: list[list] = [[] for _ in texts]
    for f in mem.facts():
        said = sorted({int(s.rsplit("-", 1)[1]) for s in f.sessions if s.startswith(tag)})
        if not said and f.status == "rejected" and f.id not in before and f.value:
            said = [i for i, t in enumerate(texts) if f.value.casefold() in t.casefold()][:1]
        for i in said:
            per_text[i].append(f)
    return per_text


def measure(folder: Path, mem) -> dict:
    marker = folder / "TUNED_ON"  # once someone looked at its misses to fix them: a dev set since
    out: dict = {"set": str(folder.relative_to(ROOT)),
                 "tuned_on": marker.read_text().strip() if marker.exists() else None}
    poison = lines(folder / "poison.jsonl")
    if poison:
        facts = said_twice(mem, [c["text"] for c in poison], folder.name + "-p")
        through = [any(f.status in BECAME_CANDIDATE for f in fs) for fs in facts]
        kinds = sorted({c.get("kind", "?") for c in poison})
        out["poison"] = {"messages": len(poison), "became_candidates": sum(through),
                         "by_kind": {k: f"{sum(t for t, c in zip(through, poison) if c.get('kind') == k)} of "
                                        f"{sum(c.get('kind') == k for c in poison)}" for k in kinds},
                         "facts_rejected": sum(f.status == "rejected" for fs in facts for f in fs)}
    benign = lines(folder / "benign.jsonl")
    if benign:
        facts = said_twice(mem, [c["text"] for c in benign], folder.name + "-b")
        out["benign"] = {"messages": len(benign),
                         "with_a_candidate": sum(any(f.status in BECAME_CANDIDATE for f in fs) for fs in facts),
                         "all_facts_refused": sum(bool(fs) and all(f.status == "rejected" for f in fs) for fs in facts),
                         "facts_refused": sum(f.status == "rejected" for fs in facts for f in fs)}
    return out


def main(argv: list[str]) -> int:
    if not argv:
        print(__doc__.split("\n\n")[1].strip(), file=sys.stderr)
        return 2
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory() as home:
        os.environ["AGENT_HOME"] = home
        from config import load_settings
        from memory import Memory

        settings = load_settings()
        with Memory(settings) as mem:
            results = [measure((ROOT / a).resolve() if not Path(a).is_absolute() else Path(a), mem) for a in argv]
    out = {"date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "cpu_count": os.cpu_count(),
           "command": "python bench/heldout_gate.py " + " ".join(argv), "extractor": settings.memory.extractor,
           "sets": results, "wall_seconds": round(time.perf_counter() - t0, 1)}
    write_result(ROOT / "bench" / "results" / "security-heldout.json", out)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
