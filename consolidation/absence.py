"""Absence: questions about things the user never said, near the things they did.

An adapter trained only on what the user said learns to answer every personal question with
something it knows ("What's my cat called?" → "Your cat's name is Pepper.", the dog's name). The
publish gate asks "never said" questions about each fact's neighbours (other relatives, other
pets, other favourites) and measures how often a learned value comes out (`absence`). Training
can teach ABSENT_ANSWER on other neighbours (`consolidation.absence_per_fact`); it is off, and
`gate.min_absence` 0, because neither setting measured so far works (end-to-end test, shards of
one fact): 2 per fact kept held-out recall at 1.00 but the cat still got "Pepper"; 4 per fact
cost the dog's own fact a held-out question ("I forgot my dog's name for a second, can you tell
me?" → "Yes, you can tell me that."), so the next round failed retention (0.917 < 0.95).

Only facts about a relation or a favourite have neighbours, of the same kind: the dog's name
brings the ferret's, the sister's city an uncle's, the favourite colour the favourite season.
The user's own attributes bring none: trained to say "You haven't told me that." to "Where does
my son work?", the adapter also said it to "Can you remind me where I work?" (end-to-end test,
held-out recall 0.65 against 0.80 needed), and the subject is all that tells them apart.
Training and gate questions never meet: each family alternates its members between the two
(even places train, odd places are asked by the gate), and the gate's wording comes from the
held-out bank written by other people.
"""

from __future__ import annotations

import random
import zlib
from typing import Sequence

from consolidation.synthesize import QA, FactQuestions, heldout_bank, normalise
from memory.shapes import SHAPES, fill, same_relation, shape_of

ABSENT_ANSWER = "You haven't told me that."

PEOPLE = ("sister", "brother", "mother", "father", "wife", "husband", "son", "daughter", "grandmother",
          "grandfather", "aunt", "uncle", "cousin", "best friend", "boss", "neighbour", "roommate", "niece",
          "nephew", "girlfriend", "boyfriend", "coworker")
PETS = ("dog", "cat", "horse", "parrot", "rabbit", "hamster", "goldfish", "tortoise", "snake", "guinea pig",
        "lizard", "ferret")
FAVOURITES = ("color", "food", "movie", "book", "song", "band", "season", "sport", "animal", "drink", "dessert",
              "board game")

_RELATION_SHAPES = {"{x}'s name", "{x}'s home city", "{x}'s employer", "{x}'s job title", "{x}'s age"}
_SHAPES = {s.key: s for s in SHAPES}


def _family(shape_key: str, x: str | None) -> tuple[str, tuple[str, ...]] | None:
    """The shape neighbours are asked in, and who or what they are; None: no neighbours."""
    if shape_key in _RELATION_SHAPES and x:
        return shape_key, PETS if any(same_relation(x, p) for p in PETS) else PEOPLE
    if shape_key == "favorite {x}":
        return shape_key, FAVOURITES
    return None


class _Learned:
    """What the memory holds, by shape: each learned attribute's part (who or what it is about),
    and every value as a possible part ("I have a horse" → no "What's my horse called?")."""

    def __init__(self, attributes: Sequence[str], values: Sequence[str]) -> None:
        self.parts: dict[str, list[str]] = {}
        for a in attributes:
            shape, parts = shape_of(a)
            if parts.get("x"):
                self.parts.setdefault(shape.key, []).append(parts["x"])
        self.values = {normalise(v) for v in values}

    def __contains__(self, item: tuple[str, str]) -> bool:
        shape_key, x = item
        return normalise(x) in self.values or any(same_relation(p, x) for p in self.parts.get(shape_key, ()))


def absent_questions(groups: Sequence[FactQuestions], attributes: Sequence[str], values: Sequence[str],
                     split: str, per_group: int) -> list[QA]:
    """`per_group` "never said" questions near each group, none about a learned attribute.

    `attributes`, `values`: everything the user's memory holds (not only `groups`), so no
    question asks about something said in another shard. `split`: "train" (template wording,
    even family members) or "heldout" (the held-out bank's wording, odd members)."""
    if per_group < 1:
        return []
    learned = _Learned(attributes, values)
    out, seen = [], set()
    for g in groups:
        shape, parts = shape_of(g.attribute)
        near = _family(shape.key, parts.get("x"))
        if near is None:
            continue
        key, family = near
        members = [m for i, m in enumerate(family) if i % 2 == (0 if split == "train" else 1)]
        members = [m for m in members if (key, m) not in learned]
        wording = _SHAPES[key].questions if split == "train" else heldout_bank()[key]
        wording = [q for q in wording if "{v}" not in q]
        rng = random.Random(zlib.crc32(g.attribute.encode()))  # the same questions for a fact every round
        for m in rng.sample(members, min(per_group, len(members))):
            question = fill(rng.choice(wording), key.replace("{x}", m), "", {"x": m})
            if question not in seen:
                seen.add(question)
                out.append(QA(question, ABSENT_ANSWER, [], g.fact_ids, split))
    return out
