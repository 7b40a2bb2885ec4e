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


def _scope(facts, emb=None):
    from types import SimpleNamespace

    from consolidation.synthesize import synthesize

    facts = [SimpleNamespace(id=f"f{i}", attribute=a, value=v, text=f"My {a} is {v}.") for i, (a, v) in enumerate(facts)]
    return Scope.of_groups(synthesize(facts, 4), emb or FakeEmbedder(), 0.3)


FACTS = [("dog's name", "Pepper"), ("sister's name", "Ana"), ("home city", "Oslo"), ("favorite color", "teal")]


def test_questions_about_what_was_said_reach_the_adapters():
    scope = _scope(FACTS)
    for q in ["What's my dog called?", "what is my puppy's name", "What is my little sister's name?",
              "Where do I live?", "What is my favourite colour?", "Which colour do I like best?"]:
        assert scope.match(q), q


def test_questions_about_what_was_never_said_are_kept_from_the_adapters():
    """The adapters would answer them with a learned value ("What's my horse called?" → Pepper)."""
    scope = _scope(FACTS)
    for q in ["What's my horse called?", "whats our cat's name", "What is my nephew's name?",
              "Where does my sister live?", "How old is Ana?", "What's my favorite season?",
              "Which sport do I like best?", "What is my sister's favorite color?"]:
        assert not scope.match(q), q


def test_what_choosing_a_shard_embeds_is_known_before_it_embeds():
    """Chat embeds these in one pass with retrieval's question (agent/operations.context_for)."""
    scope = _scope(FACTS)
    assert scope.texts("How old is Ana?") == ["How old is Ana?", "How old is my friend?"]  # Ana: the sister
    assert scope.texts("Where does my sister live?") == ["Where does my sister live?", "Where does my friend live?"]
    assert scope.texts("Where do I live?") == ["Where do I live?"]
    assert scope.texts("What is the capital of France?") == []  # not about the user: no adapter, no embedding


def test_a_question_about_someone_goes_to_the_shard_that_knows_them():
    emb = FakeEmbedder()
    dogs = _scope([("dog's name", "Pepper"), ("home city", "Oslo")], emb)
    cats = _scope([("cat's name", "Miso")], emb)
    both = Scope.combine([dogs, cats])
    assert both.pick("What's my cat called?") == 1 and both.pick("What's my dog called?") == 0
    assert both.pick("What's my kitten's name?") == 1 and both.pick("What's my hamster called?") is None


def test_scopes_saved_before_attributes_route_as_before(tmp_path):
    scope = _scope(FACTS)
    scope.save(tmp_path)
    assert Scope.load(tmp_path, FakeEmbedder(), 0.3).attributes == scope.attributes
    old = Scope(scope.keys, scope.vectors, scope.embedder, 0.3, scope.values)  # a scope.json without them
    assert old.match("What's my horse called?")
