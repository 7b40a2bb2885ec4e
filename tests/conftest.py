"""Shared fixtures: every test gets its own AGENT_HOME; one fake per real part."""

from __future__ import annotations

import importlib.util
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


@pytest.fixture
def fake_engine(monkeypatch):
    """Make every command that opens an engine get one shared FakeEngine."""
    from tests.fake_engine import FakeEngine

    engine = FakeEngine()

    def _open(settings, adapter=None, use_registry=True):
        if adapter is not None:
            engine.set_adapter(adapter)
        return engine

    monkeypatch.setattr("agent.runtime.open_engine", _open)
    return engine


@pytest.fixture
def daemon(fake_engine, monkeypatch):
    """A started daemon (port 0, the FakeEngine) serving from a background thread; stopped afterwards."""
    import threading

    from agent.daemon import Daemon
    from config import load_settings

    monkeypatch.setenv("AGENT_DAEMON__PORT", "0")
    d = Daemon(load_settings())
    d.start()
    thread = threading.Thread(target=d.serve, daemon=True)
    thread.start()
    yield d
    d.request_stop()
    thread.join(10)
    assert not thread.is_alive()


@pytest.fixture(scope="session")
def tiny_gemma():
    """A tiny random Gemma 3 text model (2 layers) and a byte-level stand-in tokenizer."""
    import torch
    from transformers import Gemma3ForCausalLM, Gemma3TextConfig

    torch.manual_seed(0)
    cfg = Gemma3TextConfig(
        vocab_size=300, hidden_size=32, intermediate_size=64, num_hidden_layers=2,
        num_attention_heads=2, num_key_value_heads=1, head_dim=16, max_position_embeddings=512,
        sliding_window=64, layer_types=["sliding_attention", "full_attention"], initializer_range=0.3,
    )
    model = Gemma3ForCausalLM(cfg).eval()
    for p in model.parameters():
        p.requires_grad_(False)
    return model, ByteTokenizer()


class ByteTokenizer:
    """Bytes as token ids (+2; 1 = BOS), enough to train a tiny model in tests."""

    def __call__(self, text, add_special_tokens=True):
        ids = [b + 2 for b in text.encode()]
        return {"input_ids": ([1] if add_special_tokens else []) + ids}

    def decode(self, ids):
        return bytes(i - 2 for i in ids if i >= 2).decode(errors="replace")


FAKE_EMBEDDER = "tests.fakes:FakeEmbedder"


@pytest.fixture(autouse=True)
def fake_embedder(request, monkeypatch):
    """Memory uses the fast FakeEmbedder and the rules extractor unless the test is marked slow
    (real MiniLM, the extraction model).

    Set through the settings (AGENT_MEMORY__…), so subprocesses inherit them too."""
    if request.node.get_closest_marker("slow") is None:
        monkeypatch.setenv("AGENT_MEMORY__EMBEDDER", FAKE_EMBEDDER)
        monkeypatch.setenv("AGENT_MEMORY__EXTRACTOR", "rules")
        repo = str(Path(__file__).resolve().parent.parent)
        monkeypatch.setenv("PYTHONPATH", repo + os.pathsep + os.environ.get("PYTHONPATH", ""))
    yield



@pytest.fixture(scope="session")
def load_bench():
    """Import bench/<name>.py as a module (bench/ holds scripts, not a package)."""
    def load(name: str):
        path = Path(__file__).resolve().parents[1] / "bench" / f"{name}.py"
        spec = importlib.util.spec_from_file_location(f"bench_{name}", path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module
    return load
