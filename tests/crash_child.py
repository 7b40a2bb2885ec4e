"""The process tests/test_fault_injection.py kills with SIGKILL: it imports turns, detects facts and
publishes adapter versions in a loop, and appends to `acks.jsonl` (fsync'd) each batch of turns
whose import returned, i.e. was acknowledged. Usage: python tests/crash_child.py HOME SEED"""

from __future__ import annotations

import faulthandler
import json
import os
import random
import sys
from pathlib import Path

from agent import operations as ops
from config import load_settings
from consolidation.registry import Registry
from memory import Memory


def publish(registry: Registry, rng: random.Random) -> None:
    """What a consolidation does to the registry: one retrained shard (a 4 MB adapter file), the
    others carried over from the live version."""
    staging = registry.stage()
    current = registry.current()
    carried = [registry.carry(staging, s).name for s in (current.shards if current else [])[:2]]
    new = f"s{len(carried) + 1:03d}"
    (staging / new).mkdir()
    (staging / new / "adapter.gguf").write_bytes(rng.randbytes(4 << 20))
    shards = [{"id": i, "facts": []} for i in carried + [new]]
    registry.set_current(registry.commit(staging, {"facts": [], "shards": shards}))


def main(home: str, seed: int) -> None:
    faulthandler.enable()  # a crash of its own (not our SIGKILL) shows where it happened in the test's message
    rng = random.Random(seed)
    acks = Path(home) / ".." / "acks.jsonl"
    with Memory(load_settings()) as mem, open(acks, "a") as log:
        registry = Registry(mem.settings.home)
        for batch in range(1000):
            turns = [{"session": f"k{seed}-{batch % 3}", "role": "user",
                      "content": f"run {seed} batch {batch} turn {i}: my dog's name is Rex{batch % 4}"}
                     for i in range(rng.randint(5, 60))]
            ops.import_turns(mem, turns, mem.detect)  # acknowledged once this returns
            log.write(json.dumps([t["content"] for t in turns]) + "\n")
            log.flush()
            os.fsync(log.fileno())
            if batch % 3 == 2:
                publish(registry, rng)


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
