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


FAKE_EMBEDDER = "tests.fakes:FakeEmbedder"


@pytest.fixture(autouse=True)
def fake_embedder(request, monkeypatch):
    """Memory uses the fast FakeEmbedder unless the test is marked slow (real MiniLM).

    Set through the settings (AGENT_MEMORY__EMBEDDER), so subprocesses inherit it too."""
    if request.node.get_closest_marker("slow") is None:
        monkeypatch.setenv("AGENT_MEMORY__EMBEDDER", FAKE_EMBEDDER)
        repo = str(Path(__file__).resolve().parent.parent)
        monkeypatch.setenv("PYTHONPATH", repo + os.pathsep + os.environ.get("PYTHONPATH", ""))
    yield
