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


def test_combined_scopes_pick_the_shard_of_the_nearest_question():
    emb = FakeEmbedder()
    dog = Scope.build(["What is my dog's name?", "What's my dog called?"], emb, 0.5, values=["Pepper"])
    city = Scope.build(["Where do I live?", "Which city do I live in?"], emb, 0.5)
    both = Scope.combine([dog, city])
    assert both.pick("What is my dog's name?") == 0
    assert both.pick("Which city do I live in now?") == 1
    assert both.pick("Who is Pepper?") is None  # names a value but is like no trained question
    assert both.pick("What is the capital of France?") is None
    assert both.nearest("What is the capital of France?") in (0, 1)  # the raw adapters answer everything
    assert both.everywhere().pick("Which city is the capital of France?") == 1
    assert both.values == ["Pepper"] and len(both.keys) == 4
