"""The real offline MiniLM embedder, end to end (slow: loads the model)."""

from __future__ import annotations

import numpy as np
import pytest

from config import load_settings


@pytest.mark.slow
def test_minilm_paraphrase_detection_and_search(monkeypatch):
    monkeypatch.delenv("AGENT_MEMORY__EMBEDDER", raising=False)
    from memory import Memory
    from memory.embedder import MiniLMEmbedder, get_embedder

    emb = get_embedder()
    assert isinstance(emb, MiniLMEmbedder) and emb.name() == "hippo-minilm"
    assert get_embedder() is emb  # one instance per process
    v = emb.encode(["My dog's name is Pepper.", "My pet's name is Pepper.", "I live in Oslo."])
    assert v.shape == (3, 384)
    assert np.allclose(np.linalg.norm(v, axis=1), 1.0, atol=1e-4)
    assert v[0] @ v[1] > 0.75 > v[0] @ v[2]
    one = emb.encode(["My dog's name is Pepper."])
    assert np.allclose(one[0], v[0], atol=1e-5) and one.shape == (1, 384)
    assert emb.encode(["My dog's name is Pepper."])[0].base is one[0].base  # embedded once: retrieval, then the shard choice
    with pytest.raises(ValueError):
        one[0][0] = 0.0  # the cached vector cannot be changed by a caller
    # a turn's texts in one pass (the question, and itself with the person it names made anyone):
    # both are kept, and both rows come from that one pass
    emb.encode(["Where does Chiamaka live?", "Where does my friend live?"])
    assert emb.encode(["Where does my friend live?"])[0].base is emb.encode(["Where does Chiamaka live?"])[0].base

    with Memory(load_settings(memory={"extractor": "rules"})) as mem:  # the embedder's matching, not the extractor
        mem.add_turns([
            {"session": "s1", "role": "user", "content": "my dog's name is Pepper"},
            {"session": "s1", "role": "assistant", "content": "What a cute name!"},
            {"session": "s2", "role": "user", "content": "My puppy Pepper loves the beach."},
            {"session": "s2", "role": "user", "content": "I bake sourdough bread on Sundays."},
        ])
        mem.detect()
        [f] = mem.facts()
        assert f.status == "candidate" and f.sessions == ["s1", "s2"]
        assert "sourdough" in mem.search("baking bread", k=1)[0].text
