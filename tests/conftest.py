"""Shared fixtures: every test gets its own AGENT_HOME; one fake per real part."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

# Shared across tests (and CI runs): the dequantised HF copy of the embedded model is
# expensive to build (~90 s), so the cache lives outside the per-test home.
os.environ.setdefault("AGENT_CACHE", str(Path.home() / ".cache" / "hippo-agent-tests"))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")


@pytest.fixture(autouse=True)
def agent_home(tmp_path, monkeypatch) -> Path:
    """Point AGENT_HOME at a fresh temp dir for every test."""
    home = tmp_path / "home"
    monkeypatch.setenv("AGENT_HOME", str(home))
    return home
