from types import SimpleNamespace as F

from consolidation.synthesize import heldout_bank, is_correct, mentions, normalise, synthesize
from memory.shapes import SHAPES


def fact(i, attribute, value):
    return F(id=f"f{i}", attribute=attribute, value=value, text=f"My {attribute} is {value}.")


def test_name_fact_has_varied_train_and_disjoint_heldout():
    [g] = synthesize([fact(1, "dog's name", "Pepper")], examples_per_fact=6)
    train_q = {qa.question for qa in g.train}
    held_q = {qa.question for qa in g.heldout}
    assert len(train_q) == 6 and len(held_q) >= 2
    assert not train_q & held_q  # held-out phrasings are never trained on
    assert "Who is Pepper?" in train_q
    assert all("your dog" in qa.answer.lower() and "Pepper" in qa.answer for qa in g.train)
    assert all(qa.values == ["Pepper"] and qa.fact_ids == ["f1"] for qa in g.train + g.heldout)


def test_repeats_never_conflict():
    [g] = synthesize([fact(1, "dog's name", "Pepper")], examples_per_fact=20)
    answers: dict[str, set] = {}
    for qa in g.train:
        answers.setdefault(qa.question, set()).add(qa.answer)
    assert len(g.train) == 20 and all(len(a) == 1 for a in answers.values())
    assert len(g.train_unique) == len(answers)


def test_multi_valued_attribute_is_answered_together():
    groups = synthesize([fact(1, "allergy", "peanuts"), fact(2, "allergy", "shellfish")])
    [g] = groups
    assert g.values == ["peanuts", "shellfish"] and g.fact_ids == ["f1", "f2"]
    assert all("peanuts and shellfish" in qa.answer for qa in g.train)
    assert not any("{v}" in qa.question or "peanuts" in qa.question for qa in g.train)


def test_known_pattern_and_generic_families():
    by_attr = {g.attribute: g for g in synthesize([fact(1, "favorite color", "teal"), fact(2, "bike colour", "red"),
                                                    fact(3, "home city", "Tromsø"), fact(4, "car", "Volvo 240")])}
    assert by_attr["favorite color"].train[0].question == "What is my favorite color?"
    assert by_attr["bike color"].train[0].answer == "Your bike color is red."
    assert by_attr["home city"].train[0].answer == "You live in Tromsø."
    assert "You drive a Volvo 240." in {qa.answer for qa in by_attr["car"].train}


def test_mentions_is_word_aligned_and_accent_safe():
    assert mentions("You live in Tromsø.", "Tromsø")
    assert mentions("Your office is in Building 12!", "building 12")
    assert not mentions("Your office is in building 12.", "building 1")
    assert not mentions("Peppercorn", "Pepper")
    assert normalise("Amélie") == "amelie"
    assert is_correct("You are allergic to peanuts and shellfish.", ["peanuts", "shellfish"])
    assert not is_correct("You are allergic to peanuts.", ["peanuts", "shellfish"])


def test_every_shape_has_heldout_questions_from_another_source():
    """The gate's held-out questions come from the people-written bank, never from the training templates."""
    bank = heldout_bank()
    assert set(bank) == {s.key for s in SHAPES}
    for shape in SHAPES:
        value = "Pepper" if "name" in shape.key else "teal"
        attribute = shape.key.format(x="dog", y="collar color", a="shoe size")
        [g] = synthesize([fact(1, attribute, value)])
        train, held = {normalise(q.question) for q in g.train}, {normalise(q.question) for q in g.heldout}
        assert len(held) >= 4 and not train & held, shape.key
        assert {q.question for q in g.heldout} <= {q.format(x="dog", y="collar color", a="shoe size", v=value)[:1].upper()
                                                   + q.format(x="dog", y="collar color", a="shoe size", v=value)[1:]
                                                   for q in bank[shape.key]}


def test_any_fact_gets_trained_and_heldout_questions():
    [g] = synthesize([fact(1, "instrument i practise on sundays", "violin")])
    assert g.train and len(g.heldout) >= 4
    assert all("violin" in qa.answer for qa in g.train + g.heldout)
    assert not {qa.question for qa in g.train} & {qa.question for qa in g.heldout}
