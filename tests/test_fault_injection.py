"""Crash consistency: SIGKILL at seeded random moments of import, detection and adapter publishing,
then a restart must find every acknowledged turn, no ghost in the index, and a complete `current`."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from config import load_settings
from config.models import file_sha256
from consolidation.registry import Registry
from memory import Memory

pytestmark = pytest.mark.slow  # ~24 child processes: a minute or two
CHILD = Path(__file__).with_name("crash_child.py")
KILLS = 24


def test_sigkill_at_random_points_loses_nothing_acknowledged_and_leaves_no_ghost(agent_home, monkeypatch):
    monkeypatch.setenv("AGENT_MEMORY__EMBEDDER", "tests.fakes:FakeEmbedder")  # speed: the store is what is tested
    monkeypatch.setenv("AGENT_MEMORY__EXTRACTOR", "rules")
    monkeypatch.setenv("PYTHONPATH", str(CHILD.parent.parent))
    rng = random.Random(20261129)
    acks = agent_home.parent / "acks.jsonl"
    killed_with_work_done = 0
    for seed in range(KILLS):
        child = subprocess.Popen([sys.executable, str(CHILD), str(agent_home), str(seed)],
                                 stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        time.sleep(rng.uniform(2.0, 6.0))  # start-up is ~1.5 s; then imports, detection, publishing
        assert child.poll() is None, child.stderr.read().decode()[-2000:]
        os.kill(child.pid, signal.SIGKILL)
        child.wait()
        acked = [c for line in acks.read_text().splitlines() for c in json.loads(line)] if acks.exists() else []
        killed_with_work_done += bool(acked)

        with Memory(load_settings()) as mem:  # the restart: reconciles the index with the ledger
            stored = {t.content for t in mem.turns()}
            assert not [c for c in acked if c not in stored], f"kill {seed}: acknowledged turns lost"
            assert mem.store.ids() == mem.ledger.visible_turn_ids(), f"kill {seed}: index != ledger"
            assert all(h.text in stored for h in mem.search("my dog's name is Rex", k=50))
            Registry(mem.settings.home).clean()  # what the daemon does at start
        current = Registry(agent_home).current()
        if current is not None:
            for shard in current.shards:
                assert file_sha256(shard.gguf) == shard.sha256, f"kill {seed}: torn adapter {shard.id}"
        assert not list((agent_home / "adapters").glob(".staging-*")) if (agent_home / "adapters").exists() else True
    assert killed_with_work_done >= KILLS - 2
    assert Registry(agent_home).current() is not None
