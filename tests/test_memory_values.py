"""Value normalisation, grounding, fact shapes and secrets: the rule pieces every extractor shares."""

from __future__ import annotations

import pytest

from memory.secrets import contains_secret
from memory.shapes import canonical_text, is_multi_valued, normal_attribute, relation_of, same_relation, shape_of
from memory.values import grounded, negated, values_compatible


def test_values_compatible():
    assert values_compatible("green Volvo 240", "Volvo 240")
    assert values_compatible("Tromsø", "tromso")
    assert values_compatible("2", "two")
    assert values_compatible("67", "sixty-seven") and values_compatible("16", "sixteen")
    assert values_compatible("welder", "welding")  # word forms are one value
    assert not values_compatible("building 7", "building 12")
    assert not values_compatible("Oslo", "Bergen")
    assert values_compatible("backend dev", "backend developer")  # a clipped word is the whole one
    assert values_compatible("chem", "chemistry") and values_compatible("uni", "university")
    assert not values_compatible("vet", "veteran") and not values_compatible("lab", "labrador")
    assert grounded("software developer", ["i'm a software dev"])


@pytest.mark.parametrize("value,source", [
    ("welder", "ugh welding all day again"), ("Tromsø", "i live in tromso"), ("2", "i have two kids"),
    ("Rufus", "Who's Rufus?"), ("the city library", "i work at the city library"),
    ("67", "at sixty-seven I think I've earned it"), ("56", "Fifty-six and falling apart, ha!"),
    ("30", "turned thirty last week"),
])
def test_grounded_in_the_users_words(value, source):
    assert grounded(value, [source])


@pytest.mark.parametrize("value,source", [
    ("Paris", "i live in lyon"), ("nurse", "night shift again at the ER"), ("New York City", "nyc"),
    ("3", "i have two kids"), ("", "anything"), ("60", "i am sixty-seven"), ("7", "i am sixty-seven"),
])
def test_not_grounded_values_are_refused(value, source):
    assert not grounded(value, [source])


@pytest.mark.parametrize("value,text", [
    ("vegan", "i'm not vegan anymore, haven't been for years"), ("car", "i don't own a car, i bike everywhere"),
    ("car", "never had a car honestly"), ("Oslo", "I no longer live in Oslo, now Bergen"),
])
def test_a_value_said_only_under_a_negation_is_negated(value, text):
    assert negated(value, text)


@pytest.mark.parametrize("value,text", [
    ("welder", "I can't believe I'm a welder now"), ("Oslo", "not sure why but I live in Oslo"),
    ("Bergen", "I no longer live in Oslo, now Bergen"), ("vegan", "not a fan of meat. vegan since 2010"),
    ("nurse", "no, I am a nurse"), ("Paris", "i live in lyon"),
])
def test_a_value_affirmed_somewhere_is_not_negated(value, text):
    assert not negated(value, text)


@pytest.mark.parametrize("attribute,value,sentence", [
    ("job", "welder", "I work as a welder."),
    ("sister's city", "Oslo", "My sister lives in Oslo."),
    ("dog's name", "Pepper", "My dog's name is Pepper."),
    ("favourite band", "Radiohead", "My favorite band is Radiohead."),
    ("gym location", "Kallio", "My gym is in Kallio."),
    ("office location", "building 12", "I work at building 12."),  # an office is the workplace
    ("son's age", "7", "My son is 7 years old."),
    ("commute", "40 minutes by bike", "My commute is 40 minutes by bike."),  # any attribute gets a sentence
    ("sister's favorite food", "sushi", "My sister's favorite food is sushi."),
])
def test_one_shape_table_gives_the_canonical_sentence(attribute, value, sentence):
    assert canonical_text(attribute, value) == sentence


def test_shape_knows_relations_and_multiple_values():
    assert normal_attribute("my job") == "job title"
    assert relation_of("sister's home city") == "sister" and relation_of("home city") is None
    assert is_multi_valued("allergy") and is_multi_valued("sister's name")
    assert not is_multi_valued("home city") and not is_multi_valued("wife's name")
    assert shape_of("shoe size")[0].key == "{a}"


def test_same_relation():
    assert same_relation("dog", "puppy") and same_relation("little sister", "sister")
    assert same_relation("wife", "partner") and same_relation("life partner", "girlfriend")
    assert not same_relation("dog", "cat") and not same_relation("tennis partner", "girlfriend")
    assert not same_relation("business partner", "wife") and same_relation("lab partner", "lab partner")


@pytest.mark.parametrize("text", [
    "My PIN is 4821.", "my password is hunter2", "My card number is 4111 1111 1111 1111",
    "Here's my API key: sk-abc123def456ghi789", "My IBAN is NO93 8601 1117 947", "boat shed code 7304#",
    "the combination is 12-34-56", "token: ab12cd34", "My social security number is 123-45-6789.",
])
def test_secrets(text):
    assert contains_secret(text)


@pytest.mark.parametrize("text", [
    "the secret is a lot of olive oil", "learning to code since 2015", "my favorite Taylor Swift album is 1989",
    "I collect pins, I have 300 of them", "I work at the Social Security office", "I was born 12.05.1990",
])
def test_ordinary_sentences_are_not_secrets(text):
    assert not contains_secret(text)
