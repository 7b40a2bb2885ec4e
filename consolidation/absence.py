"""Absence: questions about things the user never said, near the things they did.

An adapter trained only on what the user said learns to answer every personal question with
something it knows ("What's my cat called?" → "Your cat's name is Pepper.", the dog's name). So
such questions never reach it: the scope gate (consolidation/scope.py) lets a question about
someone or a favourite in only when a learned fact asks the same of the same one, and the base
model, which knows none of the user's values, answers the rest. This module says whom a question
asks about (`people_named`: "my horse", "our cat"; a learned name: "How old is Chiamaka?"), what
it asks of them (`masked` + `what_questions`: "Where does my friend live?" → home city) and which
favourite it asks for (`favourites_named`). Measured by bench/absence.py on questions written by
people who never read this code.

The publish gate asks "never said" questions about each fact's neighbours (other relatives, other
pets, other favourites) and measures how often a learned value comes out (`absence`, gated at
`gate.min_absence`). Training can also teach ABSENT_ANSWER on other neighbours
(`consolidation.absence_per_fact`); it is off, because neither setting measured works (end-to-end
test, shards of one fact): 2 per fact kept held-out recall at 1.00 but the cat still got
"Pepper"; 4 per fact cost the dog's own fact a held-out question ("I forgot my dog's name for a
second, can you tell me?" → "Yes, you can tell me that."), so the next round failed retention.

Only facts about a relation or a favourite have neighbours, of the same kind: the dog's name
brings the ferret's, the sister's city an uncle's, the favourite colour the favourite season.
The user's own attributes bring none: trained to say "You haven't told me that." to "Where does
my son work?", the adapter also said it to "Can you remind me where I work?" (end-to-end test,
held-out recall 0.65 against 0.80 needed), and the subject is all that tells them apart.
Training and gate questions never meet: each family alternates its members between the two
(even places train, odd places are asked by the gate), and the gate's wording comes from the
held-out bank written by other people. The gate's questions name family members the scope gate
knows, so its `absence` guards the routing against breaking; bench/absence.py's probe, in other
people's words, is the measure.
"""

from __future__ import annotations

import functools
import random
import re
import zlib
from typing import Sequence

from consolidation.synthesize import QA, FactQuestions, heldout_bank, normalise
from memory.shapes import SHAPES, fill, normal_attribute, same_relation, shape_of

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


# who a question may ask about: the families above and the rest of a user's people and animals
_SOMEONE = PEOPLE + PETS + (
    "grandson", "granddaughter", "grandchild", "grandma", "grandpa", "granny", "nana", "auntie", "twin",
    "stepmother", "stepfather", "stepmom", "stepmum", "stepdad", "stepson", "stepdaughter", "stepbrother",
    "stepsister", "godmother", "godfather", "godson", "goddaughter", "godchild", "mother-in-law",
    "father-in-law", "sister-in-law", "brother-in-law", "daughter-in-law", "son-in-law", "in-laws", "partner",
    "spouse", "fiancé", "fiancée", "fiance", "fiancee", "ex", "ex-wife", "ex-husband", "ex-girlfriend",
    "ex-boyfriend", "mom", "mum", "dad", "kid", "child", "baby", "friend", "colleague", "classmate", "flatmate",
    "housemate", "teammate", "bandmate", "landlord", "landlady", "manager", "supervisor", "mentor", "teacher",
    "coach", "doctor", "dentist", "therapist", "pet", "puppy", "kitten", "pony", "budgie", "canary", "cockatiel",
    "goat", "chicken", "hen", "pig", "duck", "turtle", "gecko", "iguana", "frog", "axolotl", "hedgehog", "mouse",
    "rat", "gerbil", "chinchilla", "fish", "bird", "donkey", "sheep", "cow", "alpaca", "tarantula", "spider")
_WHOM = "|".join(sorted({re.escape(w) for w in _SOMEONE}, key=len, reverse=True))
_MY_SOMEONE = re.compile(rf"\b(?:my|our)\s+(?:(?!favou?rite\b)[\w-]+\s+){{0,2}}?({_WHOM})(?:s|es)?\b", re.IGNORECASE)
_FUNCTION_WORD = r"(?:is|was|are|were|do|did|i|of|again|would|that|and|or|in|to|for|mine|right|please|now)\b"
# a kind of favourite, unless a noun follows it ("favorite sports team" is no favourite sport)
_FAVOURITE = re.compile(r"\b(" + "|".join(sorted(FAVOURITES + ("colour",), key=len, reverse=True))
                        + rf")s?\b(?![ \t]+(?!{_FUNCTION_WORD})[a-z])", re.IGNORECASE)
_LIKES_BEST = re.compile(r"\bmy\s+(?:[\w-]+\s+)?favou?rite|favou?rite\b.*\bof mine\b"
                         r"|\bi\b.*\b(?:like|love|prefer|enjoy)\b.*\b(?:best|most)\b", re.IGNORECASE)
_THEIR_FAVOURITE = re.compile(r"\b(?!(?:what|that|it|who|where|there|here|how|he|she)'s)[\w-]+'s\s+(?:[\w-]+\s+)?favou?rite",
                              re.IGNORECASE)


def people_named(question: str) -> list[str]:
    """The relatives, friends and animals a question asks about ("my horse", "our cat", "my
    little sister's")."""
    return list(dict.fromkeys(m.lower() for m in _MY_SOMEONE.findall(question.replace("’", "'"))))


def favourites_named(question: str, nearest: str) -> list[str]:
    """The favourites a question asks for ("Which sport do I like best?" → favorite sport) when
    it speaks of favourites or is nearest a favourite's question (`nearest`: that attribute)."""
    question = question.replace("’", "'")
    if _THEIR_FAVOURITE.search(question):
        return []  # someone else's favourite
    if shape_of(nearest)[0].key != "favorite {x}" and not _LIKES_BEST.search(question):
        return []
    kinds = ("color" if m.lower() == "colour" else m.lower() for m in _FAVOURITE.findall(question))
    return [f"favorite {kind}" for kind in dict.fromkeys(kinds)]


def what_of(attribute: str) -> str:
    """What an attribute asks, whoever it is about: "dog's name" → "name", "employer" → "employer"."""
    shape, parts = shape_of(attribute)
    what = normal_attribute(attribute)
    return what[len(parts["x"]) + 3:] if "x" in parts and shape.key.startswith("{x}'s") else what


def masked(question: str, names: Sequence[str] = ()) -> str:
    """The question with whom it asks about made anyone ("Where does my neighbour live?",
    "Where does Chiamaka live?" with `names` ["Chiamaka"] → "Where does my friend live?"), to
    tell what it asks from whom it asks it of."""
    text = question.replace("’", "'")
    text = _MY_SOMEONE.sub(lambda m: m.group(0)[: m.start(1) - m.start(0)] + "friend", text)
    for name in names:
        text = re.sub(rf"\b{re.escape(name)}\b", "my friend", text, flags=re.IGNORECASE)
    return text


def what_questions(whats: Sequence[str]) -> list[tuple[str, str]]:
    """(question, what) about "my friend" for what one asks of a person (name, city, employer,
    job, age) and for each of `whats` ("nickname" → "What is my friend's nickname?")."""
    out = []
    for key in sorted(_RELATION_SHAPES):
        what = key[len("{x}'s "):]
        out += [(fill(q, f"friend's {what}", "", {"x": "friend"}), what) for q in _SHAPES[key].questions if "{v}" not in q]
    standard = {what for _, what in out}
    for what in dict.fromkeys(w for w in whats if w not in standard):
        out.append((fill(_SHAPES["{x}'s {y}"].questions[0], f"friend's {what}", "", {"x": "friend", "y": what}), what))
    return out


def same_question(a: str, b: str) -> bool:
    """Do two attributes ask the same thing of the same one ("puppy's name" ~ "dog's name")?"""
    (ka, xa, ya), (kb, xb, yb) = _question(a), _question(b)
    if ka != kb or ya != yb:
        return False
    return same_relation(xa, xb) if xa and xb else xa == xb


@functools.lru_cache(maxsize=4096)
def _question(attribute: str) -> tuple[str, str | None, str | None]:
    """(shape, whom, what else) of an attribute: "dog's name" → ("{x}'s name", "dog", None);
    the user's own: (its normal form, None, None)."""
    shape, parts = shape_of(attribute)
    if "x" not in parts:
        return normal_attribute(attribute), None, None
    return shape.key, parts["x"], parts.get("y")


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
