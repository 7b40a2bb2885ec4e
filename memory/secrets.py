"""Secrets: PINs, passwords, card and account numbers, keys and tokens are never facts.

A sentence that mentions or contains one is dropped before extraction, and a fact whose value
or attribute looks like one is dropped after it, whatever the extractor says.
"""

from __future__ import annotations

import re

__all__ = ["contains_secret", "SECRET_WORDS"]

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
    r"\b(?:pin|code|token|secret|combination|log-?in|user ?name|acct|swift|bic|tin|credit ?card|debit ?card|"
    r"bank ?card)s?\b(?:\W+\w+){0,6}?\W+[\"'“]?(?!(?:19|20)\d\d\b)(?=[\w#*\-]*\d)[\w#*\-]{4,}",
    re.IGNORECASE,
)
_DATE = re.compile(r"\b\d{1,4}[./-]\d{1,2}[./-]\d{1,4}\b")
SECRET_PATTERNS = [
    re.compile(r"(?:\d[ \-./]?){6,}\d"),  # long digit runs: cards, accounts, phones, ids
    re.compile(r"\b\d{3}-\d{2}-\d{4}\b"),  # SSN
    re.compile(r"\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]{2,4}){3,8}\b"),  # IBAN
    re.compile(r"\b(?:sk|pk|rk|ghp|gho|ghs|github_pat|xox[abpr]|AKIA|ASIA|AIza|hf)[-_][A-Za-z0-9_\-]{8,}"),
    re.compile(r"\bAKIA[0-9A-Z]{12,}\b"),
    re.compile(r"\beyJ[\w-]{5,}\.[\w-]{5,}"),  # JWT
    # long mixed letter+digit strings (tokens, keys)
    re.compile(r"\b(?=[A-Za-z0-9_\-]*\d)(?=[A-Za-z0-9_\-]*[A-Za-z])[A-Za-z0-9_\-]{16,}\b"),
    re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----"),
]


def contains_secret(text: str) -> bool:
    """True when the text mentions or contains a secret / sensitive identifier."""
    if SECRET_WORDS.search(text) or _CODE_AFTER_WORD.search(text):
        return True
    text = _DATE.sub(" ", text)  # "born 12.05.1990" is a date, not an account number
    return any(p.search(text) for p in SECRET_PATTERNS)
