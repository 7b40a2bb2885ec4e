"""Shard planning: which facts each adapter holds, and which shards a round must retrain."""

from types import SimpleNamespace as F

import pytest

from consolidation.shards import plan_shards


def facts(*ids):
    return [F(id=i) for i in ids]


def shard(id, *fact_ids):
    return F(id=id, facts=fact_ids)


def layout(planned):
    return [(s.id, [f.id for f in s.facts], s.changed) for s in planned]


def test_first_round_fills_shards_in_order():
    assert layout(plan_shards([], facts("a", "b", "c", "d", "e"), 2)) == [
        ("s001", ["a", "b"], True), ("s002", ["c", "d"], True), ("s003", ["e"], True)]


def test_new_facts_fill_the_newest_shard_and_leave_full_ones_alone():
    previous = [shard("s001", "a", "b"), shard("s002", "c")]
    assert layout(plan_shards(previous, facts("a", "b", "c", "d", "e"), 2)) == [
        ("s001", ["a", "b"], False), ("s002", ["c", "d"], True), ("s003", ["e"], True)]


def test_nothing_new_retrains_nothing():
    previous = [shard("s001", "a", "b"), shard("s002", "c")]
    assert [s.changed for s in plan_shards(previous, facts("a", "b", "c"), 2)] == [False, False]


def test_an_update_joins_the_shard_of_the_fact_it_supersedes():
    previous = [shard("s001", "a", "b"), shard("s002", "c", "d")]
    planned = plan_shards(previous, facts("a", "c", "d", "b2"), 2, replaces={"b2": "b"})
    assert layout(planned) == [("s001", ["a", "b2"], True), ("s002", ["c", "d"], False)]


def test_an_update_whose_shard_is_full_goes_to_the_newest():
    previous = [shard("s001", "a", "b"), shard("s002", "c")]
    planned = plan_shards(previous, facts("a", "b", "c", "x", "b2"), 2, replaces={"b2": "x"})
    assert layout(planned) == [("s001", ["a", "b"], False), ("s002", ["c", "x"], True), ("s003", ["b2"], True)]


def test_forgetting_retrains_only_its_shard_and_an_emptied_shard_goes():
    previous = [shard("s001", "a", "b"), shard("s002", "c"), shard("s003", "d", "e")]
    assert layout(plan_shards(previous, facts("a", "d", "e"), 2)) == [
        ("s001", ["a"], True), ("s003", ["d", "e"], False)]


def test_retrain_all_after_a_model_switch_and_bad_size():
    previous = [shard("s001", "a")]
    assert [s.changed for s in plan_shards(previous, facts("a"), 2, retrain_all=True)] == [True]
    with pytest.raises(ValueError):
        plan_shards([], facts("a"), 0)


def grown(planned):
    return [(s.id, s.grown) for s in planned]


def test_only_a_shard_that_kept_every_fact_and_gained_some_has_grown():
    """A grown shard may train on from its adapter; one that lost a fact must start from the base
    model, or the lost fact would stay in its weights."""
    previous = [shard("s001", "a", "b"), shard("s002", "c")]
    assert grown(plan_shards(previous, facts("a", "b", "c", "d", "e"), 2)) == [
        ("s001", False), ("s002", True), ("s003", False)]  # full and untouched; gained d; new
    assert grown(plan_shards(previous, facts("a", "c", "b2"), 2, replaces={"b2": "b"})) == [
        ("s001", False), ("s002", False)]  # b2 replaced b: s001 lost a fact
    assert grown(plan_shards([shard("s001", "a", "b")], facts("a", "x"), 2)) == [("s001", False)]  # b forgotten, x new
    assert grown(plan_shards(previous, facts("a", "b", "c", "d"), 2, retrain_all=True)) == [
        ("s001", False), ("s002", False)]  # another base model


def test_the_gate_asks_every_held_out_question_of_facts_new_to_their_adapter_only():
    """A carried fact, or one its continued shard's adapter was gated on before, gets
    CARRIED_HELDOUT held-out questions; a fact new to its adapter gets all of them."""
    from consolidation.pipeline import CARRIED_HELDOUT, gate_questions
    from consolidation.synthesize import synthesize

    said = [F(id=i, attribute="pet's name", value=v, text=f"My pet is called {v}.") for i, v in
            [("old", "Rex"), ("new", "Mochi"), ("carried", "Bo")]]
    old, new, carried = (synthesize([f])[0] for f in said)
    assert min(len(g.heldout) for g in (old, new, carried)) > CARRIED_HELDOUT
    asked = {g.fact_ids[0]: len(g.heldout) for g in gate_questions([old, new], {"old"}, [carried])}
    assert asked == {"old": CARRIED_HELDOUT, "new": len(new.heldout), "carried": CARRIED_HELDOUT}
    assert {g.fact_ids[0]: len(g.heldout) for g in gate_questions([old, new], set(), [])} == {
        "old": len(old.heldout), "new": len(new.heldout)}  # retrained from the base model: all
