"""bench/detection.py's matcher: a candidate counts for a label only when it is about the same one."""

from __future__ import annotations

import numpy as np
import pytest

from memory.ledger import Fact
from memory.shapes import canonical_text


class SameVector:
    """Every sentence one vector: the matcher's meaning check always passes, so only values and subjects decide."""

    def encode(self, texts):
        return np.ones((len(texts), 4)) / 2.0


def fact(subject: str, attribute: str, value: str) -> Fact:
    return Fact("f1", canonical_text(attribute, value), subject, attribute, value, "candidate", ["s1", "s2"], [1, 2],
                "", "")


@pytest.fixture(scope="module")
def matcher(load_bench):
    return load_bench("detection").Matcher(SameVector())


@pytest.mark.parametrize("candidate, sentence, about_user, relation, same", [
    (fact("wife", "wife's name", "Ewa"), "My wife's name is Ewa.", False, None, True),
    (fact("dog", "dog's name", "Ewa"), "My wife's name is Ewa.", False, None, False),  # the value of another one
    (fact("dog", "dog's name", "Fly"), "My sheepdog is called Fly.", False, None, True),  # a compound names the dog
    (fact("car", "car's name", "Oscar"), "My son Oscar is nine.", False, None, False),  # "oscar" is no car
    (fact("roommate", "roommate's name", "Dez"), "My roommate is Dez.", True, "roommate", True),
])
def test_a_candidate_matches_a_label_about_the_same_one(matcher, candidate, sentence, about_user, relation, same):
    value = candidate.value
    assert matcher.same(candidate, value, sentence, about_user, relation) is same
