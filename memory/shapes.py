"""Fact shapes: the one table of what each kind of fact looks like.

A shape knows, for an attribute such as `home city` or `<x>'s name`:
- the canonical first-person sentence ("I live in Oslo.", "My sister's name is Astrid."),
- whether a user can hold several values at once (allergies, hobbies; not a home city),
- the questions consolidation trains on and the answers it trains ("Where do I live?" →
  "You live in Oslo.").

The extractor writes attributes in the names used here (training/extractor/FORMAT.md); an
attribute no shape knows gets the generic sentence and questions ("My commute is 40 minutes.").
Held-out questions for the publish gate come from elsewhere on purpose (questions written by
people, `consolidation/data/heldout_questions.json`), so that a pass means the fact answers
questions nobody here templated.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from memory.values import article, attribute_key

__all__ = ["Shape", "shape_of", "canonical_text", "is_multi_valued", "is_name", "is_pet", "normal_attribute", "relation_of",
           "same_relation", "takes_proper_names", "SHAPES"]


@dataclass(frozen=True)
class Shape:
    """One kind of fact. Templates use {v} (value), {art} (a/an for the value), {x} (the part
    of the attribute a pattern captured: `sister` in `sister's name`) and {a} (the attribute)."""

    key: str  # the attribute, or a pattern with {x}
    sentence: str
    answer: str
    questions: tuple[str, ...]
    multi: bool = False
    proper: bool = False  # its values are proper names: people, pets, places, organisations, makes


def _s(key, sentence, answer, questions, multi=False, proper=False) -> Shape:
    return Shape(key, sentence, answer, tuple(questions), multi, proper)


SHAPES: tuple[Shape, ...] = (
    _s("name", "My name is {v}.", "Your name is {v}.",
       ["What is my name?", "What's my name?", "Who am I?", "Tell me my name."], proper=True),
    _s("age", "I am {v} years old.", "You are {v} years old.",
       ["How old am I?", "What is my age?", "What age am I?"]),
    _s("birthday", "My birthday is {v}.", "Your birthday is {v}.",
       ["When is my birthday?", "What is my birthday?", "What date is my birthday?"]),
    _s("birth year", "I was born in {v}.", "You were born in {v}.",
       ["What year was I born?", "When was I born?", "What is my birth year?"]),
    _s("birthplace", "I was born in {v}.", "You were born in {v}.",
       ["Where was I born?", "What is my birthplace?", "Which place was I born in?"], proper=True),
    _s("home city", "I live in {v}.", "You live in {v}.",
       ["Where do I live?", "Which city do I live in?", "Where is my home?", "Where am I living these days?",
        "What city is my home?"], proper=True),
    _s("hometown", "I am from {v}.", "You are from {v}.",
       ["Where am I from?", "What is my hometown?", "Where did I grow up?", "Where do I come from?"], proper=True),
    _s("nationality", "I am {v}.", "You are {v}.",
       ["What is my nationality?", "What nationality am I?", "Which country's citizen am I?"], proper=True),
    _s("job title", "I work as {art} {v}.", "You work as {art} {v}.",
       ["What is my job?", "What do I do for a living?", "What is my profession?", "What work do I do?"]),
    _s("employer", "I work at {v}.", "You work at {v}.",
       ["Where do I work?", "Which company do I work for?", "Who is my employer?", "What company employs me?",
        "Where is my job?"], proper=True),
    _s("workplace", "I work at {v}.", "You work at {v}.",
       ["Where do I work?", "What is my workplace?", "Where is my job?"], proper=True),
    _s("school", "I study at {v}.", "You study at {v}.",
       ["Where do I study?", "Which school do I go to?", "What school do I attend?"], proper=True),
    _s("field of study", "I study {v}.", "You study {v}.",
       ["What do I study?", "What is my field of study?", "What subject do I study?"]),
    _s("relationship status", "I am {v}.", "You are {v}.",
       ["What is my relationship status?", "Am I in a relationship?", "Am I married or single?"]),
    _s("diet", "I am {v}.", "You are {v}.",
       ["What is my diet?", "What diet do I follow?", "What kind of eater am I?"]),
    _s("allergy", "I am allergic to {v}.", "You are allergic to {v}.",
       ["What am I allergic to?", "Do I have any allergies?", "What are my allergies?", "What is my allergy?"],
       multi=True),
    _s("intolerance", "I am {v} intolerant.", "You are {v} intolerant.",
       ["What am I intolerant to?", "What food intolerance do I have?", "Do I have a food intolerance?"],
       multi=True),
    _s("medical condition", "I have {v}.", "You have {v}.",
       ["What medical condition do I have?", "What health condition do I have?", "Do I have a medical condition?"],
       multi=True),
    _s("blood type", "My blood type is {v}.", "Your blood type is {v}.",
       ["What is my blood type?", "What blood group am I?", "Which blood type do I have?"]),
    _s("speaks language", "I speak {v}.", "You speak {v}.",
       ["What languages do I speak?", "Which language do I speak?", "What language can I speak?"], multi=True),
    _s("plays instrument", "I play the {v}.", "You play the {v}.",
       ["What instrument do I play?", "Which instrument do I play?", "Do I play an instrument?"], multi=True),
    _s("plays sport", "I play {v}.", "You play {v}.",
       ["What sport do I play?", "Which sport do I play?", "Do I play a sport?"], multi=True),
    _s("hobby", "I enjoy {v}.", "You enjoy {v}.",
       ["What are my hobbies?", "What do I do for fun?", "What is my hobby?", "How do I spend my free time?"],
       multi=True),
    _s("likes", "I like {v}.", "You like {v}.",
       ["What do I like?", "What am I into?", "What do I love?"], multi=True),
    _s("dislikes", "I dislike {v}.", "You dislike {v}.",
       ["What do I dislike?", "What don't I like?", "What do I hate?"], multi=True),
    _s("pet", "I have {art} {v}.", "You have {art} {v}.",
       ["What pet do I have?", "Do I have a pet?", "What animal do I keep?"], multi=True),
    _s("car", "I drive {art} {v}.", "You drive {art} {v}.",
       ["What car do I drive?", "What is my car?", "Which car do I have?", "What do I drive?"], proper=True),
    _s("home", "I live in {v}.", "You live in {v}.",
       ["What kind of home do I live in?", "What is my home like?", "What sort of place do I live in?"]),
    _s("supports team", "I support {v}.", "You support {v}.",
       ["Which team do I support?", "What team do I root for?", "Who do I support?"], multi=True, proper=True),
    _s("religion", "My religion is {v}.", "Your religion is {v}.",
       ["What is my religion?", "What faith do I follow?", "What religion am I?"]),
    _s("routine", "I {v}.", "You {v}.",
       ["What is my routine?", "What do I do regularly?", "What habit do I have?"], multi=True),
    _s("goal", "My goal is to {v}.", "Your goal is to {v}.",
       ["What is my goal?", "What am I working towards?", "What am I aiming for?"], multi=True),
    _s("personality trait", "I am {v}.", "You are {v}.",
       ["What am I like?", "How would you describe me?", "What kind of person am I?"], multi=True),
    # patterns: {x} is the relation or thing
    _s("{x}'s name", "My {x}'s name is {v}.", "Your {x}'s name is {v}.",
       ["What is my {x}'s name?", "What's my {x} called?", "Tell me my {x}'s name.", "Who is {v}?",
        "Remind me, what is my {x}'s name?", "What did I say my {x} is called?"], multi=True, proper=True),
    _s("{x}'s home city", "My {x} lives in {v}.", "Your {x} lives in {v}.",
       ["Where does my {x} live?", "Which city does my {x} live in?", "Where is my {x}'s home?"], proper=True),
    _s("{x}'s employer", "My {x} works at {v}.", "Your {x} works at {v}.",
       ["Where does my {x} work?", "Which company does my {x} work for?", "Who employs my {x}?"], proper=True),
    _s("{x}'s job title", "My {x} works as {art} {v}.", "Your {x} works as {art} {v}.",
       ["What does my {x} do for a living?", "What is my {x}'s job?", "What is my {x}'s profession?"]),
    _s("{x}'s age", "My {x} is {v} years old.", "Your {x} is {v} years old.",
       ["How old is my {x}?", "What is my {x}'s age?", "What age is my {x}?"]),
    _s("favorite {x}", "My favorite {x} is {v}.", "Your favorite {x} is {v}.",
       ["What is my favorite {x}?", "Which {x} do I like best?", "What {x} do I love most?"]),
    _s("number of {x}", "I have {v} {x}.", "You have {v} {x}.",
       ["How many {x} do I have?", "What number of {x} do I have?", "Do I have {x}?"]),
    _s("{x} location", "My {x} is in {v}.", "Your {x} is in {v}.",
       ["Where is my {x}?", "Where is my {x} located?", "In which place is my {x}?"], proper=True),
    _s("{x}'s {y}", "My {x}'s {y} is {v}.", "Your {x}'s {y} is {v}.",
       ["What is my {x}'s {y}?", "Tell me my {x}'s {y}.", "Do you remember my {x}'s {y}?"]),
    _s("{a}", "My {a} is {v}.", "Your {a} is {v}.",
       ["What is my {a}?", "Tell me my {a}.", "Remind me what my {a} is.", "Do you remember my {a}?"]),
)

_BY_KEY = {s.key: s for s in SHAPES}
_PATTERNS = [(re.compile("^" + re.escape(s.key).replace(r"\{x\}", "(?P<x>.+?)").replace(r"\{y\}", "(?P<y>.+)")
                         .replace(r"\{a\}", "(?P<a>.+)") + "$"), s) for s in SHAPES if "{" in s.key]

# other names for the same attribute (what people and older versions of the extractor write)
_ALIASES = {
    "job": "job title", "occupation": "job title", "profession": "job title",
    "city": "home city", "current city": "home city", "lives in": "home city", "residence": "home city",
    "location": "home city", "home town": "hometown", "from": "hometown", "origin": "hometown",
    "company": "employer", "instrument": "plays instrument", "sport": "plays sport",
    "language": "speaks language", "languages": "speaks language", "hobbies": "hobby",
    "allergies": "allergy", "pets": "pet", "study": "field of study", "major": "field of study",
    "university": "school", "college": "school", "team": "supports team", "like": "likes",
    "dislike": "dislikes", "health condition": "medical condition", "condition": "medical condition",
    "office": "workplace", "office location": "workplace", "work location": "workplace", "place of work": "workplace",
}
_REL_ALIASES = {"city": "home city", "job": "job title", "occupation": "job title", "company": "employer",
                "town": "home city", "home": "home city", "location": "home city"}
# relations that name one person (a second name for them is an update, not a second person)
SINGLE_PEOPLE = {
    "wife", "husband", "partner", "spouse", "boyfriend", "girlfriend", "fiancé", "fiancée", "fiance",
    "fiancee", "mother", "mom", "mum", "father", "dad", "stepmother", "stepfather", "boss", "manager",
    "landlord", "landlady", "therapist", "doctor", "dentist", "supervisor", "mentor",
}
# the animals people keep ("my rabbit's name", "I have a gecko")
PET_KINDS = ("dog", "cat", "puppy", "kitten", "pet", "horse", "pony", "rabbit", "bunny", "hamster", "guinea pig", "parrot",
             "bird", "budgie", "goldfish", "fish", "turtle", "tortoise", "snake", "lizard", "gecko", "ferret",
             "chinchilla", "hedgehog", "cockatiel", "iguana", "rat", "mouse", "goat", "donkey")
# relations that may name the same one ("my puppy" ~ "my dog"; never "my dog" ~ "my cat")
RELATION_GROUPS = (
    {"dog", "puppy", "pup", "doggo", "pet"}, {"cat", "kitten", "kitty", "pet"}, {"wife", "wifey", "missus", "spouse", "partner"},
    {"husband", "hubby", "spouse", "partner"}, {"boyfriend", "bf", "partner"}, {"girlfriend", "gf", "partner"},
    {"fiancé", "fiancée", "fiance", "fiancee", "partner"}, {"son", "kid", "kiddo", "child", "baby"},
    {"daughter", "kid", "kiddo", "child", "baby"}, {"boss", "manager", "supervisor"},
    {"mother", "mom", "mum", "mam", "mama", "mommy", "mummy"}, {"father", "dad", "daddy", "papa", "pops"},
    {"sister", "sis"}, {"brother", "bro"}, {"grandmother", "grandma", "gran", "granny", "nan", "nana"},
    {"grandfather", "grandpa", "grandad", "granddad", "gramps"},
)


def normal_attribute(attribute: str) -> str:
    """The attribute in the table's words (`job` → `job title`, `sister's city` → `sister's home city`)."""
    a = attribute_key(attribute)
    a = re.sub(r"^(?:my|your|the)\s+", "", a)
    if a in _ALIASES:
        return _ALIASES[a]
    m = re.fullmatch(r"(.+?)'s (.+)", a)
    if m and m.group(2) in _REL_ALIASES:
        return f"{m.group(1)}'s {_REL_ALIASES[m.group(2)]}"
    return a


def shape_of(attribute: str) -> tuple[Shape, dict[str, str]]:
    """The shape of `attribute` and what its pattern captured ({"x": "sister"})."""
    a = normal_attribute(attribute)
    if a in _BY_KEY:
        return _BY_KEY[a], {}
    for rx, shape in _PATTERNS:
        m = rx.match(a)
        if m:
            return shape, {k: v for k, v in m.groupdict().items() if v is not None}
    raise AssertionError("the generic shape matches every attribute")  # pragma: no cover


def fill(template: str, attribute: str, value: str, parts: dict[str, str]) -> str:
    out = template.format(v=value, art=article(value), **{"x": "", "y": "", "a": attribute, **parts})
    return out[:1].upper() + out[1:]


def canonical_text(attribute: str, value: str) -> str:
    """The first-person sentence that states the fact."""
    shape, parts = shape_of(attribute)
    return fill(shape.sentence, normal_attribute(attribute), value, parts)


def relation_of(attribute: str) -> str | None:
    """Whose attribute it is: `sister` for `sister's home city`, None for the user's own."""
    m = re.fullmatch(r"(.+?)'s .+", normal_attribute(attribute))
    return m.group(1) if m else None


def same_relation(a: str, b: str) -> bool:
    """Can two relation words name the same one ("dog" ~ "puppy", never "dog" ~ "cat", and a
    tennis partner is no girlfriend)?"""
    if a == b:
        return True
    ha, hb = a.split()[-1], b.split()[-1]
    if ha != hb and (_other_partner(a) or _other_partner(b)):
        return False
    return ha == hb or any(ha in g and hb in g for g in RELATION_GROUPS)


def _other_partner(relation: str) -> bool:
    """A partner in something other than life ("tennis partner", "business partner")."""
    words = relation.split()
    return words[-1] == "partner" and len(words) > 1 and words[-2] not in ("life", "domestic", "romantic")


def is_name(attribute: str) -> bool:
    """Is the value a name (of the user, a person or a pet), which a question may name ("Who is Pepper?")?"""
    return shape_of(attribute)[0].key in ("name", "{x}'s name")


def is_pet(relation: str | None) -> bool:
    """Is the relation an animal the user keeps ("rabbit", "guinea pig", "new puppy")?"""
    return bool(relation) and (relation in PET_KINDS or relation.split()[-1] in PET_KINDS)


def takes_proper_names(attribute: str) -> bool:
    """Are the attribute's values proper names (a city, a person, an employer, a car), not things or activities?"""
    return shape_of(attribute)[0].proper


def is_multi_valued(attribute: str) -> bool:
    """Can the user hold several values at once (a new value is then no update)?"""
    shape, parts = shape_of(attribute)
    if shape.key == "{x}'s name":
        return parts["x"].split()[-1] not in SINGLE_PEOPLE
    return shape.multi
