"""Build bench/data/persona_large.json: 500 distinct user facts for the scaling benchmark.

The first 40 are bench/data/persona.json; 120 more are generated here with distinct attributes
(relatives' and pets' names, favourites, relatives' home cities and employers, places,
nicknames) and made-up values the base model cannot guess (seeded pseudo-words, so the file is
reproducible). Facts 161-500 follow the same recipe with more people, pets, favourites and
belongings; the first 160 are unchanged, so results measured on them stay comparable.
Run: python bench/data/build_persona_large.py
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


# facts 161-500
NAMES_2 = ["piano teacher", "swim coach", "yoga teacher", "optician", "postman", "florist", "baker", "butcher",
           "gardener", "chiropractor", "physiotherapist", "nanny", "financial advisor", "travel agent",
           "estate agent", "personal trainer", "hairdresser", "locksmith", "electrician", "carpenter", "landlady",
           "donkey", "goat", "pig", "cow", "chicken", "gecko", "iguana", "hedgehog", "guinea pig", "turtle",
           "budgie", "car", "bike", "motorbike", "kayak", "sailboat", "robot vacuum", "sourdough starter", "cactus"]
FAVORITES_2 = ["sandwich", "pizza topping", "ice cream flavor", "cereal", "soda", "wine", "beer", "coffee drink",
               "smoothie", "salad", "pasta", "noodle dish", "curry", "breakfast", "holiday", "month", "weekday",
               "number", "letter", "font", "shoe brand", "perfume", "shampoo", "candle scent", "constellation",
               "dinosaur", "insect", "fish", "reptile", "herb", "mushroom", "berry", "tv show", "sitcom", "anime",
               "musical", "ballet", "play", "novel", "short story", "newspaper", "radio station",
               "youtube channel", "blog", "chess opening", "card game", "puzzle", "sports team", "athlete",
               "martial art", "yoga pose", "swimming stroke", "car brand", "airline", "hotel", "beach",
               "park", "bridge", "lake", "castle"]
PEOPLE_2 = ["niece", "nephew", "grandfather", "stepmother", "stepfather", "godmother", "godfather",
            "mother-in-law", "father-in-law", "sister-in-law", "brother-in-law", "daughter-in-law", "son-in-law",
            "half-brother", "half-sister", "great-aunt", "great-uncle", "second cousin", "childhood friend",
            "college roommate", "pen pal", "old teacher", "former boss", "business partner", "flatmate",
            "lab partner", "tennis partner", "running buddy", "study buddy", "bandmate", "teammate",
            "ex-girlfriend", "ex-boyfriend", "oldest friend", "youngest cousin", "twin", "grandniece",
            "grandnephew", "stepson", "stepdaughter"]
PLACES_2 = ["passport", "spare key", "wedding ring", "telescope", "camping gear", "winter tyres", "old diaries",
            "record collection", "sewing machine", "canoe", "tent", "ski boots", "birth certificate",
            "grandfather's watch", "photo albums", "paddleboard", "drum kit", "easel", "kiln", "beehives",
            "vegetable garden", "greenhouse", "caravan", "bicycle trailer", "toolbox", "fishing rod",
            "wine cellar", "piano", "safe", "server", "darkroom", "pottery wheel", "loom", "boat trailer",
            "snowboard", "kayak paddles", "hiking boots", "sleeping bag", "emergency kit", "backup drive"]


def generated() -> list[dict]:
    attrs = ([f"{x}'s name" for x in NAMES] + [f"favorite {x}" for x in FAVORITES]
             + [f"{x}'s home city" for x in PEOPLE] + [f"{x}'s employer" for x in EMPLOYED]
             + [f"{x} location" for x in PLACES] + GENERIC)
    more = ([f"{x}'s name" for x in NAMES_2] + [f"favorite {x}" for x in FAVORITES_2]
            + [f"{x}'s home city" for x in PEOPLE_2] + [f"{x}'s employer" for x in PEOPLE_2]
            + [f"{x}'s nickname" for x in PEOPLE_2] + [f"{x}'s street" for x in PEOPLE_2]
            + [f"{x}'s favorite food" for x in PEOPLE_2] + [f"{x} location" for x in PLACES_2])
    rng = random.Random(11)
    rng.shuffle(more)  # rounds mix kinds, as a user's months do
    values = pseudo_words(len(attrs) + len(more))  # the same first 120 as before
    return [{"attribute": a, "value": v} for a, v in zip(attrs + more, values)]


def main() -> None:
    base = json.loads((HERE / "persona.json").read_text())
    facts = base + generated()
    attrs = [f["attribute"] for f in facts]
    assert len(set(attrs)) == len(attrs) == 500, "attributes must be distinct"
    out = HERE / "persona_large.json"
    out.write_text("[\n" + ",\n".join("  " + json.dumps(f, ensure_ascii=False) for f in facts) + "\n]\n")
    print(f"wrote {out} ({len(facts)} facts)")


if __name__ == "__main__":
    main()
