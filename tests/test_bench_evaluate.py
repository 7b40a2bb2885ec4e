"""bench/evaluate.py helpers that need no model: the conversation builder and the scoring."""

from __future__ import annotations

import pytest

from config import load_settings


@pytest.fixture(scope="module")
def evaluate(load_bench):
    return load_bench("evaluate")


def test_turns_state_each_fact_in_its_planned_number_of_sessions(evaluate):
    facts, _ = evaluate.detectable(evaluate.persona()[:8], load_settings())
    groups = evaluate.plan_sessions(facts)
    turns = evaluate.build_turns(facts, groups)
    for f in facts:
        sessions = {t["session"] for t in turns if t["role"] == "user" and f.value in t["content"]}
        assert len(sessions) == groups[f.id], f.text


def test_natural_answers_are_scored_on_the_labelled_value(evaluate):
    assert evaluate.core_value("chef (runs the kitchen at a tapas place)") == "chef"
    assert evaluate.answers_with("Your partner works as a chef.", "chef")
    assert evaluate.answers_with("You live in Tromso.", "Tromsø")
    assert not evaluate.answers_with("You are not a chef.", "chef")
    assert not evaluate.answers_with("You live in Oslo.", "Bergen")
