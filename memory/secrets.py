"""Secrets: PINs, passwords, card and account numbers, keys and tokens are never facts, and their
values are never stored.

`redact` runs on every turn before anything is written (ledger, index, logs): the value of a
secret becomes "[redacted PIN]", "[redacted number]"... A sentence that mentions or contains a
secret (or a redaction) is dropped before extraction, and a fact whose value or attribute looks
like one is dropped after it, whatever the extractor says.
"""

from __future__ import annotations

import re

__all__ = ["contains_secret", "redact", "REDACTED", "SECRET_WORDS"]

REDACTED = "[redacted"

# words that name a secret whatever follows them
SECRET_WORDS = re.compile(
    r"\b(?:pin ?codes?|pin numbers?|passwords?|passwd|pass ?codes?|pass ?phrases?|pwd|"
    r"credentials?|api[ _-]?keys?|access[ _-]?keys?|secret ?keys?|private ?keys?|"
    r"auth(?:entication)? codes?|2fa|otp|one[- ]time (?:code|password)s?|security codes?|"
    r"verification codes?|cvv|cvc|cvv2|card numbers?|"
    r"iban|routing numbers?|account numbers?|sort codes?|ssn|social security (?:numbers?|no)|"
    r"national insurance|tax ?id|passport numbers?|licen[cs]e numbers?|seed phrases?|"
    r"recovery (?:phrase|code|key)s?|mnemonic|door codes?|alarm codes?|lock codes?|"
    r"gate codes?|safe codes?|locker codes?|wifi codes?)\b",
    re.IGNORECASE,
)
# words that name a secret only when a code (4+ characters with a digit, not a year) follows within a few
# words ("my pin is 4821", "the shed code for me, new one is 7304#"; not "the secret is olive oil",
# "learning to code since 2015" or "I collect pins, I have 300")
_CODE_AFTER_WORD = re.compile(
    r"\b(?P<word>pin|code|token|secret|combination|log-?in|user ?name|acct|swift|bic|tin|credit ?card|debit ?card|"
    r"bank ?card)s?\b(?:\W+\w+){0,6}?\W+[\"'“]?(?P<value>(?!(?:19|20)\d\d\b)(?=[\w#*\-]*\d)[\w#*\-]{4,})",
    re.IGNORECASE,
)
_DATE = re.compile(r"\b\d{1,4}[./-]\d{1,2}[./-]\d{1,4}\b")
# what follows a secret word and is its value: "password is X", "API key: X", "pin = X" (to the
# end of the clause), or a code-like token right after the word ("wifi password hunter2")
_VALUE_AFTER_WORD = re.compile(
    r"^(?:\s+(?:\w+\s+){0,3}?(?:is|are|was|were|is now|will be|to|for)\s+|\s*[:=]\s*|\s+-\s+)"
    r"[\"'“]?(?P<value>[^\s,;!?\"”\n](?:[^,;!?\"”\n]*?[^\s,;!?.\"”\n])?)(?=[\"”]|\.?$|\.\s|[,;!?\n]|\s+(?:and|but|so|because|lol)\b)"
    r"|^\s+[\"'“]?(?P<token>(?=[\w#*\-]*[\d#*])[\w#*\-]{4,})"
)
SECRET_PATTERNS = [
    re.compile(r"(?:\d[ \-./]?){6,}\d"),  # long digit runs: cards, accounts, phones, ids
    re.compile(r"\b\d{3}-\d{2}-\d{4}\b"),  # SSN
    re.compile(r"\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]{2,4}){3,8}\b"),  # IBAN
    re.compile(r"\b(?:sk|pk|rk|ghp|gho|ghs|github_pat|xox[abpr]|AKIA|ASIA|AIza|hf)[-_][A-Za-z0-9_\-]{8,}"),
    re.compile(r"\bAKIA[0-9A-Z]{12,}\b"),
    re.compile(r"\beyJ[\w-]{5,}\.[\w-]{5,}"),  # JWT
    # long mixed letter+digit strings (tokens, keys)
    re.compile(r"\b(?=[A-Za-z0-9_\-]*\d)(?=[A-Za-z0-9_\-]*[A-Za-z])[A-Za-z0-9_\-]{16,}\b"),
    re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----.*?(?:-----END [A-Z ]*PRIVATE KEY-----|\Z)", re.DOTALL),
]


_PATTERN_LABELS = ["number", "SSN", "IBAN", "key", "key", "token", "key", "private key"]


def contains_secret(text: str) -> bool:
    """True when the text mentions, contains or had redacted a secret / sensitive identifier."""
    if REDACTED in text or SECRET_WORDS.search(text) or _CODE_AFTER_WORD.search(text):
        return True
    text = _DATE.sub(" ", text)  # "born 12.05.1990" is a date, not an account number
    return any(p.search(text) for p in SECRET_PATTERNS)


def _label(word: str) -> str:
    word = " ".join(word.split())
    word = word[:-1] if len(word) > 4 and word.endswith("s") and not word.endswith("ss") else word
    return word.upper() if len(word) <= 4 else word.lower()


def redact(text: str) -> str:
    """`text` with the value of every secret replaced by "[redacted <what>]" (the words around stay)."""
    spans: list[tuple[int, int, str]] = []
    dates = [m.span() for m in _DATE.finditer(text)]
    for pattern, label in zip(SECRET_PATTERNS, _PATTERN_LABELS):
        for m in pattern.finditer(text):
            if not any(a <= m.start() and m.end() <= b for a, b in dates):
                spans.append((*m.span(), label))
    for m in _CODE_AFTER_WORD.finditer(text):
        spans.append((*m.span("value"), _label(m.group("word"))))
    for m in SECRET_WORDS.finditer(text):
        after = _VALUE_AFTER_WORD.match(text[m.end():])
        if after:
            group = "value" if after.group("value") else "token"
            start, end = after.span(group)
            spans.append((m.end() + start, m.end() + end, _label(m.group(0))))
    out, last = [], 0
    for start, end, label in sorted(spans):
        if start < last:  # overlaps one already replaced
            continue
        out += [text[last:start], f"[redacted {label}]"]
        last = end
    return "".join(out) + text[last:]
