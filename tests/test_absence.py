"""'Never said' questions: near each fact, never about anything learned, and gated."""

from types import SimpleNamespace as F

from config.settings import GateSettings
from consolidation.absence import (ABSENT_ANSWER, PEOPLE, PETS, absent_questions, favourites_named, masked,
                                   people_named)
from consolidation.gate import evaluate
from consolidation.synthesize import synthesize

FACTS = [F(id="f1", attribute="dog's name", value="Pepper", text="My dog's name is Pepper."),
         F(id="f2", attribute="sister's name", value="Astrid", text="My sister's name is Astrid."),
         F(id="f3", attribute="pet", value="horse", text="I have a horse."),
         F(id="f4", attribute="home city", value="Oslo", text="I live in Oslo."),
         F(id="f5", attribute="allergy", value="peanuts", text="I am allergic to peanuts."),
         F(id="f6", attribute="favorite season", value="autumn", text="My favorite season is autumn."),
         F(id="f7", attribute="brother's home city", value="Bergen", text="My brother lives in Bergen.")]


def _ask(split, per_group=12, facts=FACTS):
    return absent_questions(synthesize(facts), [f.attribute for f in facts], [f.value for f in facts], split, per_group)


def _about(question, family):
    return {m for m in family if f" {m} " in f" {question.lower().replace(chr(39) + 's', ' ')} "}


def test_never_asks_about_anything_learned():
    for split in ("train", "heldout"):
        qas = _ask(split)
        assert qas and all(qa.answer == ABSENT_ANSWER and qa.values == [] for qa in qas)
        for qa in qas:
            about = _about(qa.question, PEOPLE + PETS)
            named = "name" in qa.question or "called" in qa.question
            assert not (named and about & {"sister", "dog"}), qa.question  # said: the sister's and the dog's names
            assert "horse" not in about, qa.question  # said: "I have a horse"
            assert "puppy" not in qa.question  # a puppy may be the dog


def test_neighbours_follow_the_fact():
    qas = {}
    for qa in _ask("train"):
        qas.setdefault(qa.fact_ids[0], []).append(qa.question)
    assert all(_about(q, PETS) for q in qas["f1"])  # other pets near the dog
    assert all(_about(q, PEOPLE) for q in qas["f2"])  # other people near the sister
    assert all(_about(q, PEOPLE) and ("live" in q or "home" in q) for q in qas["f7"])  # where others live
    assert all("favorite" in q or "best" in q or "most" in q for q in qas["f6"]) and qas["f6"]
    # the user's own attributes bring none: "Where does my son live?" taught the adapter to decline "Where do I live?"
    assert "f4" not in qas and "f5" not in qas and "f3" not in qas


def test_training_and_gate_questions_never_meet():
    train, heldout = _ask("train"), _ask("heldout")
    assert not {qa.question for qa in train} & {qa.question for qa in heldout}
    people_pets = PEOPLE + PETS
    trained_about = set().union(*(_about(qa.question, people_pets) for qa in train))
    asked_about = set().union(*(_about(qa.question, people_pets) for qa in heldout))
    assert trained_about and asked_about and not trained_about & asked_about


def test_the_same_questions_every_round():
    assert [qa.question for qa in _ask("train", 2)] == [qa.question for qa in _ask("train", 2)]
    assert len([qa for qa in _ask("train", 2) if qa.fact_ids == ["f1"]]) == 2


class Engine:
    """Dog questions → Pepper; other questions → `other`."""

    def __init__(self, other):
        self.other, self.last_routed = other, True

    def set_adapters(self, paths, scope=None, **kw):
        pass

    def answer(self, q):
        return "Your dog's name is Pepper." if "dog" in q or "Pepper" in q else self.other


def test_gate_fails_an_adapter_that_answers_never_said_questions_with_learned_values():
    groups = synthesize(FACTS[:1])
    absent = (_ask("heldout", 1, FACTS[:1]), ["Pepper"])
    assert absent[0]
    gated = GateSettings(min_absence=0.9)
    inventing = evaluate(Engine("Pepper!"), ["a.gguf"], None, groups, set(), [], [], [], gated, absent=absent)
    assert inventing.metrics["absence"] == 0.0
    assert any(f.startswith("absence 0.000") for f in inventing.failures)
    assert inventing.details["invented"][0]["learned"] == ["Pepper"]
    honest = evaluate(Engine(ABSENT_ANSWER), ["a.gguf"], None, groups, set(), [], [], [], gated, absent=absent)
    assert honest.metrics["absence"] == 1.0 and honest.metrics["absence_declined"] == 1.0, honest.failures
    assert honest.passed, honest.failures
    default = evaluate(Engine("Pepper!"), ["a.gguf"], None, groups, set(), [], [], [], GateSettings(), absent=absent)
    assert not default.passed  # gated by default
    raw = evaluate(Engine("Pepper!"), ["a.gguf"], None, groups, set(), [], [], [], gated, absent=absent, scope_on=False)
    assert raw.metrics["absence"] == 0.0 and raw.passed  # no scope gate: nothing could keep them out, reported only


def test_whom_and_which_favourite_a_question_asks_about():
    assert people_named("What's my little sister's name?") == ["sister"]
    assert people_named("whats our guinea pig called") == ["guinea pig"]
    assert people_named("What's my favorite bird?") == []  # a favourite, not a pet
    assert masked("Where does my mother-in-law live?") == "Where does my friend live?"
    assert masked("How old is Ana now?", ["Ana"]) == "How old is my friend now?"
    assert favourites_named("Which sport do I like best?", "hobby") == ["favorite sport"]
    assert favourites_named("What's my favourite colour?", "hobby") == ["favorite color"]
    assert favourites_named("What's my favorite sports team?", "hobby") == []  # no favourite sport
    assert favourites_named("What's my sister's favorite food?", "favorite food") == []  # hers, not the user's
    assert favourites_named("What sport do I play?", "plays sport") == []
