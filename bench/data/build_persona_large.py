"""Build bench/data/persona_large.json: 160 distinct user facts for the scaling benchmark.

The first 40 are bench/data/persona.json; 120 more are generated here with distinct attributes
(relatives' and pets' names, favourites, relatives' home cities and employers, places,
nicknames) and made-up values the base model cannot guess (seeded pseudo-words, so the file is
reproducible). Run: python bench/data/build_persona_large.py
"""

from __future__ import annotations

import json
import random
from pathlib import Path

HERE = Path(__file__).parent

NAMES = ["aunt", "cousin", "grandfather", "nephew", "niece", "dentist", "doctor", "landlord", "barber",
         "coach", "teacher", "roommate", "godmother", "godfather", "mentor", "accountant", "lawyer",
         "plumber", "tailor", "pharmacist", "vet", "therapist", "trainer", "stepbrother", "stepsister",
         "goldfish", "rabbit", "hamster", "tortoise", "boat", "snake", "pony", "ferret", "lizard", "canary",
         "mechanic", "babysitter", "colleague", "guitar teacher", "driving instructor"]
FAVORITES = ["song", "band", "painter", "poet", "city", "country", "flower", "tree", "bird", "fruit",
             "vegetable", "dessert", "cheese", "tea", "board game", "video game", "podcast", "author",
             "composer", "museum", "restaurant", "cafe", "animal", "mountain", "river", "island", "planet",
             "gemstone", "comedian", "dance", "cocktail", "soup", "pastry", "sculptor", "opera", "bakery",
             "hiking trail", "spice", "magazine", "cartoon"]
PEOPLE = ["sister", "brother", "mother", "father", "cousin", "aunt", "uncle", "best friend", "boss",
          "grandmother"]
EMPLOYED = ["sister", "brother", "wife", "cousin", "best friend", "neighbour", "son", "daughter", "aunt",
            "uncle"]
PLACES = ["cabin", "studio", "storage unit", "workshop", "locker", "garden plot", "summer house",
          "rehearsal room", "allotment", "beach hut"]
GENERIC = ["nickname", "middle name", "childhood nickname", "band name", "street name", "house name",
           "book club name", "quiz team name", "gym", "choir"]

ONSETS = ["b", "d", "f", "g", "k", "l", "m", "n", "p", "r", "s", "t", "v", "z", "br", "dr", "kl", "tr", "sk", "th"]
VOWELS = ["a", "e", "i", "o", "u", "ai", "ou", "ei"]
CODAS = ["", "", "n", "r", "l", "s", "m", "k"]


def pseudo_words(n: int, seed: int = 7) -> list[str]:
    """`n` distinct capitalised made-up words of 2-3 syllables."""
    rng, out, seen = random.Random(seed), [], set()
    while len(out) < n:
        w = "".join(rng.choice(ONSETS) + rng.choice(VOWELS) + rng.choice(CODAS)
                    for _ in range(rng.choice([2, 3])))
        if w not in seen and 5 <= len(w) <= 11:
            seen.add(w)
            out.append(w.capitalize())
    return out


def generated() -> list[dict]:
    attrs = ([f"{x}'s name" for x in NAMES] + [f"favorite {x}" for x in FAVORITES]
             + [f"{x}'s home city" for x in PEOPLE] + [f"{x}'s employer" for x in EMPLOYED]
             + [f"{x} location" for x in PLACES] + GENERIC)
    values = pseudo_words(len(attrs))
    return [{"attribute": a, "value": v} for a, v in zip(attrs, values)]


def main() -> None:
    base = json.loads((HERE / "persona.json").read_text())
    facts = base + generated()
    attrs = [f["attribute"] for f in facts]
    assert len(set(attrs)) == len(attrs) == 160, "attributes must be distinct"
    out = HERE / "persona_large.json"
    out.write_text("[\n" + ",\n".join("  " + json.dumps(f, ensure_ascii=False) for f in facts) + "\n]\n")
    print(f"wrote {out} ({len(facts)} facts)")


if __name__ == "__main__":
    main()
