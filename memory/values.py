"""Value and attribute normalisation: when are two values the same, and is a value grounded?

- `value_key` / `attribute_key`: comparison keys (case, accents, articles, plurals, number words up
  to ninety-nine: "sixty-seven" is 67).
- `values_compatible`: the same value, or one inside the other ("Volvo 240" ~ "green Volvo 240",
  never "building 7" ~ "building 12"); word forms count as one ("welder" ~ "welding").
- `grounded`: every content word of a value is supported by the given source texts (the
  user's own words): how the extractor refuses values it made up.
"""

from __future__ import annotations

import re
import unicodedata

__all__ = ["strip_accents", "value_key", "attribute_key", "values_compatible", "words", "stem",
           "grounded", "negated", "echoes_attribute", "article"]

_FOLD = str.maketrans({"ø": "o", "Ø": "O", "æ": "ae", "Æ": "AE", "ß": "ss", "ł": "l", "Ł": "L",
                       "đ": "d", "Đ": "D", "œ": "oe", "Œ": "OE", "þ": "th", "ð": "d"})
NUMBERS = {w: i for i, w in enumerate(
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen "
    "seventeen eighteen nineteen".split())}
_TENS = {w: 10 * i for i, w in enumerate("twenty thirty forty fifty sixty seventy eighty ninety".split(), 2)}
_ARTICLES = re.compile(r"\b(?:a|an|the|my|our)\b", re.IGNORECASE)
# words a value may carry that say nothing by themselves (not checked by `grounded`)
_FUNCTION_WORDS = {
    "a", "an", "the", "my", "our", "of", "in", "at", "on", "to", "for", "and", "or", "with", "from",
    "by", "de", "la", "le", "du", "del", "da", "di", "van", "von", "s",
}
_SUFFIXES = ("ings", "ing", "ers", "er", "ies", "ied", "ed", "es", "ists", "ist", "ians", "ian", "s", "y", "e")


def strip_accents(s: str) -> str:
    s = s.translate(_FOLD)
    return "".join(c for c in unicodedata.normalize("NFKD", s) if not unicodedata.combining(c))


def _digits(tokens: list[str]) -> list[str]:
    """Number words as digits, a tens word joined to the unit after it: "sixty", "seven" → "67"."""
    out: list[str] = []
    tens = False
    for t in tokens:
        if tens and 0 < NUMBERS.get(t, 0) < 10:
            out[-1], tens = str(int(out[-1]) + NUMBERS[t]), False
            continue
        tens = t in _TENS
        out.append(str(_TENS[t]) if tens else str(NUMBERS[t]) if t in NUMBERS else t)
    return out


def words(text: str) -> list[str]:
    """Lowercase words of `text`, accents folded, number words as digits ("sixty-seven" → "67")."""
    s = strip_accents(text).casefold().replace("’", "'")
    return _digits(re.findall(r"[^\W_]+", s))


# Clipped words people type for the whole one ("backend dev", "chem phd", "uni"): one meaning each; an
# ambiguous clipping ("tech", "vet", "elec") is left alone.
_CLIPPED = {"dev": "developer", "devs": "developers", "eng": "engineer", "mgr": "manager", "admin": "administrator",
            "prof": "professor", "uni": "university", "dept": "department", "govt": "government",
            "doc": "doctor", "bio": "biology", "chem": "chemistry", "psych": "psychology", "econ": "economics",
            "maths": "mathematics", "math": "mathematics", "exec": "executive", "asst": "assistant",
            "physio": "physiotherapist", "pharm": "pharmacy", "lab": "laboratory", "sci": "science"}


def stem(word: str) -> str:
    """A crude stem that joins word forms: welder/welding → weld, running/runner → run, dev → developer → develop."""
    w = _CLIPPED.get(word, word)
    if w.isdigit() or len(w) <= 3:
        return w
    for _ in range(2):
        for suf in _SUFFIXES:
            if w.endswith(suf) and len(w) - len(suf) >= (2 if suf == "ing" else 3):  # going → go
                w = w[: -len(suf)]
                break
    if len(w) >= 4 and w[-1] == w[-2] and w[-1] not in "aeiou":
        w = w[:-1]  # running → runn → run
    return w


def value_key(value: str) -> str:
    """Comparison key of a value: casefolded, accents and articles removed, crude singular."""
    s = strip_accents(value).casefold().replace("’", "'")
    s = _ARTICLES.sub(" ", s)
    s = re.sub(r"[^\w\s]", " ", s)
    toks = []
    for t in _digits(s.split()):
        if len(t) > 3 and t.endswith("s") and not t.endswith("ss") and not t.isdigit():
            t = t[:-1]
        toks.append(t)
    return " ".join(toks)


def attribute_key(attribute: str) -> str:
    s = strip_accents(attribute).casefold().replace("’", "'")
    s = s.replace("favourite", "favorite").replace("colour", "color")
    return re.sub(r"\s+", " ", s).strip()


def values_compatible(a: str, b: str) -> bool:
    """Same value after normalisation, or one contains the other (same numbers, word forms joined)."""
    ka, kb = value_key(a), value_key(b)
    if not ka or not kb:
        return False
    if ka == kb:
        return True
    if re.findall(r"\d+", ka) != re.findall(r"\d+", kb):
        return False
    ta, tb = {stem(t) for t in ka.split()}, {stem(t) for t in kb.split()}
    small, big = (ta, tb) if len(ta) <= len(tb) else (tb, ta)
    return bool(small) and small <= big and any(len(t) > 2 for t in small)


def grounded(value: str, sources: list[str]) -> bool:
    """Is every content word of `value` in `sources` (same word, number or word form)?"""
    have = set()
    for text in sources:
        for w in words(text):
            have.add(w)
            have.add(stem(w))
    content = [w for w in words(value) if w not in _FUNCTION_WORDS]
    if not content:
        return False
    return all(w in have or stem(w) in have for w in content)


def echoes_attribute(attribute: str, value: str) -> bool:
    """Does the value only repeat words of its attribute ("cat's breed: cat", "dog's name: dog")? It then
    says nothing."""
    have = {stem(w) for w in words(attribute)}
    content = [w for w in words(value) if w not in _FUNCTION_WORDS]
    return bool(content) and all(stem(w) in have for w in content)


_NEGATIONS = {"not", "no", "never", "t", "nor", "neither", "without", "longer"}  # "don't" → don, t
_CLAUSE = re.compile(r"[,;:.!?\n]+|\s(?:but|though|although)\s", re.IGNORECASE)
_NEGATION_REACH = 4  # words before the value: "i don't own a car", "no longer live in oslo"


def negated(value: str, text: str) -> bool:
    """Is `value` said in `text` only under a negation ("i'm not vegan anymore", "never had a car")?

    False when the value is not in `text` at all: then there is nothing to say about it."""
    content = [w for w in words(value) if w not in _FUNCTION_WORDS]
    if not content:
        return False
    first = stem(content[0])
    seen = False
    for clause in _CLAUSE.split(text):
        ws = words(clause)
        for i, w in enumerate(ws):
            if w == content[0] or stem(w) == first:
                seen = True
                if not _NEGATIONS & set(ws[max(0, i - _NEGATION_REACH):i]):
                    return False
    return seen


def article(phrase: str) -> str:
    return "an" if phrase[:1].lower() in "aeiou" else "a"
