"""The template rules (the baseline extractor): what is kept, what is dropped (precision first)."""

from __future__ import annotations

import pytest

from memory.rules import extract_rule_facts
from memory.secrets import contains_secret


def pairs(text):
    return [(a, v) for a, v, _ in extract_rule_facts(text)]


@pytest.mark.parametrize("text,expected", [
    ("My dog's name is Pepper.", ("dog's name", "Pepper")),
    ("Pepper, my dog, loves the beach.", ("dog's name", "Pepper")),
    ("my dog Pepper is sleeping on the couch", ("dog's name", "Pepper")),
    ("Max is my dog's name.", ("dog's name", "Max")),
    ("I live in Tromsø.", ("home city", "Tromsø")),
    ("I'm allergic to peanuts.", ("allergy", "peanuts")),
    ("I drive a green Volvo 240.", ("car", "green Volvo 240")),
    ("I work at the Norwegian Polar Institute.", ("employer", "the Norwegian Polar Institute")),
    ("My sister is called Anna.", ("sister's name", "Anna")),
    ("Ok, so my office is in building 7.", ("office location", "building 7")),
    ("I'm 72 years old and not great with computers.", ("age", "72")),
    ("I'm a nurse.", ("job title", "nurse")),
    ("I speak Norwegian and German.", ("speaks language", "German")),
    ("Thanks, my dog's name is Pepper btw.", ("dog's name", "Pepper")),
])
def test_keeps_declarative_facts(text, expected):
    assert expected in pairs(text)


@pytest.mark.parametrize("text", [
    "Do you know where I live?",
    "Is my dog's name Pepper?",
    "I wish I had a dog named Pepper.",
    "If I lived in Paris I'd eat croissants.",
    "I don't live in Oslo anymore.",
    "I don't have a dog named Pepper.",
    "Maybe I'll move to Amsterdam someday.",
    "I used to live in London.",
    "I think I live in Oslo.",
    "You live in Oslo.",
    "My friend said I should move to Paris.",
    "Honestly, my day is going great.",
    "I'm so tired today.",
    "I drive to work every day.",
    "i live in a small flat",
    "Haha nice, thanks!",
    "What if my dog's name was Pepper?",
])
def test_drops_questions_chitchat_hypotheticals_negations(text):
    assert pairs(text) == []


@pytest.mark.parametrize("text", [
    "My PIN is 4821.",
    "my password is hunter2",
    "My card number is 4111 1111 1111 1111",
    "Here's my API key: sk-abc123def456ghi789",
    "My IBAN is NO93 8601 1117 947",
    "My social security number is 123-45-6789.",
    "The wifi password is the name of my dog, Rex.",
    "My OTP is 552910.",
    "token ghp_abcdefghijklmnop1234567890",
])
def test_secrets_never_become_facts(text):
    assert contains_secret(text)
    assert pairs(text) == []


def test_secret_sentence_does_not_poison_the_rest_of_the_turn():
    got = pairs("My PIN is 4821. My dog is called Rex.")
    assert got == [("dog's name", "Rex")]


def test_update_wording_is_flagged():
    [(attr, value, update)] = extract_rule_facts("My office is now in building 12.")
    assert update and value == "building 12"
    [(attr, value, update)] = extract_rule_facts("Anyway I just moved to Bergen last month!")
    assert update and (attr, value) == ("home city", "Bergen")
