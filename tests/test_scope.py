import numpy as np

from consolidation.scope import Scope, is_personal
from tests.fakes import FakeEmbedder

KEYS = ["What is my dog's name?", "What's my dog called?", "Who is Pepper?", "Where do I live?"]


def test_is_personal():
    assert is_personal("What do I call my dog?") and is_personal("I’m tired")
    assert not is_personal("What is the capital of France?") and not is_personal("Who is Pepper?")


def test_match_needs_similarity_and_the_user():
    scope = Scope.build(KEYS, FakeEmbedder(), threshold=0.5, values=["Pepper"])
    assert scope.match("What is my dog's name?")
    assert scope.match("Who is Pepper?")  # names a learned value
    assert not scope.match("What is a dog's name?")  # similar, but not about the user
    assert not scope.match("What is the capital of France?")
    assert scope.score("What is my dog's name?") > scope.score("What should I cook tonight?")


def test_save_load_roundtrip_and_recompute(tmp_path):
    emb = FakeEmbedder()
    scope = Scope.build(KEYS, emb, 0.5, values=["Pepper"])
    scope.save(tmp_path)
    loaded = Scope.load(tmp_path, emb, 0.5)
    assert loaded.keys == KEYS and loaded.values == ["Pepper"]
    np.testing.assert_allclose(loaded.vectors, scope.vectors)
    np.save(tmp_path / "scope.npy", np.zeros((1, 3)))  # stale vectors are rebuilt, not trusted
    assert Scope.load(tmp_path, emb, 0.5).vectors.shape == scope.vectors.shape
    assert Scope.load(tmp_path / "none", emb, 0.5) is None
