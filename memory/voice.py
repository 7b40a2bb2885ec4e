"""Whose words are these? The rules that run before the extractor model sees a user turn.

A user turn mixes the user's own statements with text that is someone else's voice: pasted
emails, messages, documents and code (introduced, or only pointed at: "found this, legit?" above a
paragraph, "what do i say" below one, a paragraph that opens like a letter), quoted words of other
people (with quotation marks, or reported after "goes", "was like", "said,"). That text is replaced by a
placeholder before extraction (its "I" is not the user). Questions and hypotheticals ("if I ever
get a dog I'd call it Rufus", "in my head we already live in cornwall", "basically fixed, only the exam is
left") state nothing, and sentences
with secrets are never read at all. `speaks_of_self` is the cheap pre-filter: nothing of the
user's own left, or a short reply with no first person that answers nothing, skips the model.
"""

from __future__ import annotations

import re

from memory.secrets import contains_secret

__all__ = ["own_words", "sentences", "first_person", "of_someone_else", "said_of_someone_else", "statements", "speaks_of_self", "affirms",
           "names_self", "addressed", "mentions", "PASTED", "QUOTED"]

PASTED = "[pasted text]"
QUOTED = "[quote]"

_FENCE = re.compile(r"```.*?(?:```|$)", re.DOTALL)
_REQUEST_VERBS = (r"summari[sz]e|shorten|rewrite|re-?word|proofread|translate|reply to|respond to|edit|improve|"
                  r"polish|fix|format|check|explain|look at|read through|review|tidy")
_PASTE_NOUNS = (r"e-?mail|mail|message|msg|text|letter|note|post|review|draft|reply|comment|bio|profile|paragraph|"
                r"announcement|memo|log|error|output|config|code|snippet|script|transcript|description|listing|ad|"
                r"essay|story|poem|lyrics|caption|tweet|dm|statement|document|doc|report|template|cover letter|"
                r"signature|invite|invitation|notice|update|pitch|deck|agenda|minutes|contract|clause")
# a paste starts after "…can you shorten this:", "here's her email:", "he wrote:" (not "here's the thing:", "11:30")
_INTRO = re.compile(
    rf"(?:\b(?:{_REQUEST_VERBS})\b|\b(?:this|these|the following|below|here'?s|here is|her|his|their|the)\b[^:\n.!?]{{0,25}}"
    rf"\b(?:{_PASTE_NOUNS})s?\b|\b(?:wrote|writes|says|said|sent(?: me)?|forwarded|forwarding|pasted?|copied|reads)\b)"
    r"[^:\n.!?]{0,40}(?<!\d):(?!\d)[ \t]*(?=\S|\n|$)",
    re.IGNORECASE,
)
_REQUEST = re.compile(
    r"\b(?:summari[sz]e|shorten|rewrite|re-?word|proofread|translate|reply to|respond to|answer this|fix|"
    r"check|edit|improve|polish|tidy|make this|draft|format|explain this|what do you think of)\b",
    re.IGNORECASE,
)
# where an email or letter starts (on a later line: a first line "hey," is the user's own greeting)
_EMAIL_START = re.compile(
    r"^(?:(?:from|to|subject|cc|bcc|date|sent|re|fwd?)\s*:|(?:hi|hello|dear|hey|good (?:morning|afternoon|evening))"
    r"\b[^\n]{0,40},\s*$)",
    re.IGNORECASE,
)
_FORWARDED = re.compile(r"(?:forwarded message|original message|begin forwarded message)", re.IGNORECASE)
# a turn in paragraphs: a short first one that points at text and asks about it ("found this in the lfg channel,
# legit or scam??", "how to reply politely to this", "that guy messaged again, see"), then the text; or the text
# first and a short ask after it ("what do i say 😭"); or a later paragraph that opens like a letter ("Hi, I am…")
_PARAGRAPH = re.compile(r"\n[ \t]*\n")
_POINTS_AT = re.compile(r"\b(?:this|these|the following|below|see|here)\b|\b(?:messaged|texted|wrote|sent|emailed|"
                        r"replied|posted|dm'?d|forwarded)\b|:\s*$", re.IGNORECASE)
_ASKS_ABOUT = re.compile(rf"\?|:\s*$|\b(?:{_REQUEST_VERBS}|correct|reply|respond|answer|legit|scam|fake|real|grammar|"
                         r"say|thoughts|opinion|see)\b", re.IGNORECASE)
_ASK_AFTER = re.compile(r"^\W*(?:what (?:do|should|can|would) (?:i|u|you) (?:say|reply|answer|write|tell|do)|how (?:do|should|"
                        r"can|would|to) (?:i |u |you )?(?:reply|respond|answer)|(?:is )?(?:this|it) (?:legit|real|fake|a scam)|"
                        r"thoughts|help|reply)\b", re.IGNORECASE)
_LETTER_OPENS = re.compile(r"^\W*(?:hi|hello|dear|hey|good (?:morning|afternoon|evening))\b[^\n]{0,40}?[,!]", re.IGNORECASE)
# someone's words reported without quotation marks: "the fella jumps out and goes I'm a lawyer I know how this works
# and I just stood there", "my boss goes, i'm vegan now so…", "he said, I live in Rome": a quotative verb, or a
# verb of saying (a few words may follow it) with a comma; "she says im the best welder on site" is the user's "I", and so is "i told him i'm a nurse"
_SAID_UNMARKED = re.compile(
    r"(?<!\bi )(?<!\bwe )(?<!\bi just )(?<!\bi also )\b(?:(?:goes|went|was like|is like|be like)\s*[,:]?|"
    r"(?:said|says|texted|yelled|shouted|announced|replied|wrote|told (?:me|us|him|her|them))"
    r"(?:\s+(?!(?:i|i'?m|my|we|our|that|and|but|so)\b)[\w'’]+){0,6}?\s*[,:])\s+"  # "said on Saturday at the meeting, I…"
    r"(?:(?:like|oh|yeah|well|so|ok|okay|as you (?:all )?know)\W+)?"
    r"(?=(?:i'?m|i am|i'?ve|i have|i'?ll|i|my|we'?re|we)\b)"
    r"(?:(?!\b(?:and|but|so) (?:now|then|i|me)\b)[^.!?\n])+",
    re.IGNORECASE)
# quotations: any quoted span, masked when it is someone speaking (a speech verb before it, or a first
# person inside it); a quoted title ("The Midnight Owls") stays the user's words
_QUOTES = [re.compile(p) for p in (r'"[^"]+?"', r"“[^”]+?”", r"«[^»]+?»", r"„[^“”]+?[“”]",
                                   # single quotes may hold apostrophes between letters ('I'm moving to Perth')
                                   r"‘(?:[^’\n]|(?<=\w)’(?=\w))+?’(?!\w)",
                                   r"(?<![\w'’])'(?=[^\n]*\s)(?:[^'\n]|(?<=\w)'(?=\w))+?'(?!\w)")]
_SPEECH = re.compile(r"\b(?:said|says|say|told|tells|wrote|writes|texted|asked|asks|goes|went|like|replied|"
                     r"yelled|shouted|announced|posted|added|quote)\b[\s,:]*$", re.IGNORECASE)
_SENTENCE = re.compile(r"(?<=[.!?…])\s+|\n+")
QUESTION_WORDS = (r"who|what|when|where|why|how|which|whose|do|does|did|is|are|was|were|can|could|would|will|"
                  r"should|shall|may|might|have|has|had|am|isn't|aren't|don't|doesn't|didn't|won't|wouldn't|"
                  r"couldn't|shouldn't")  # a sentence starting with one of these asks
_QUESTION_START = re.compile(rf"^\W*(?:{QUESTION_WORDS})\b", re.IGNORECASE)
# a statement with a question tagged on: "…, how about you?", "… - you?", "…, right?"
_TAIL_QUESTION = re.compile(
    r"^(.+?)\s*(?:[,;—–]|\s-)\s*(?:(?:and|but|so|what|how)\s+)?(?:about\s+)?(?:you|u|ya|yours|wbu|hbu|right|ok|"
    r"okay|yeah|no|huh|eh|innit)\b[^,;]*\?$",
    re.IGNORECASE,
)
# a question typed without its "?" ("what's the weather like in hanoi in march")
_ASKING = re.compile(
    r"^\W*(?:(?:who|what|what's|whats|when|where|where's|why|which|whose|how|how's)\b|should i|shall i|"
    r"do you think|is it (?:weird|ok|okay|normal|bad|crazy|wise|smart|true)|am i|can i|could i)\b",
    re.IGNORECASE,
)
# what the user imagines, wishes or plans is not (yet) a fact: "if I ever get a dog I'd call it Rufus",
# "if I had money I would drive to Vienna", "one day I want to open a bakery", "I wish I had a garden", and plans:
# "thinking abt applying for a postdoc in bergen", "planning to move", "hoping to get a dog"
_MODAL = r"(?:i'?d|i would|i'?ll|i will|i might|i could|i'?m gonna|im gonna|i want|i wanna)"
_HYPOTHETICAL = re.compile(
    rf"\bif\b[^.!?]*\b{_MODAL}\b|"
    r"^\W*(?:\w+\W+){0,3}?(?:one day|someday|some day|in another life|i wish|i dream)\b|"
    r"\bthinkin[g']?\s+(?:of|about|abt|bout)\s+\w+ing\b|\bconsidering\s+\w+ing\b|\bplanning\s+(?:to|on)\b|"
    r"\b(?:hoping|tempted)\s+to\b|"
    # imagined or not yet done: "in my head we already live in cornwall", "that's the plan", "basically fixed, only the
    # exam is left", "im gonna be fluent by summer", "summer plans: learning japanese", "starting next week"
    r"\bin my (?:head|mind|dreams?|imagination)\b|\bthat'?s the plan\b|\b(?:the|my|our|summer|big) plans?\s*(?:is|:)|"
    r"\b(?:basically|almost|nearly) (?:fixed|decided|sorted|settled)\b|"
    r"\b(?:i'?m|im|i am|we'?re|we are)\s+(?:gonna|going to)\s+(?:be|become)\b|\bstarting\s+(?:next|after|tomorrow)\b|"
    # natural dev3 (tuned on): a move not yet made ("we're basically moving to san diego"), a change that starts later
    # ("well from next month", "the vegetarian thing go start after exams"), a wish ("since I was a boy I wanted to
    # fly gliders"), being something "in spirit", a life "in three years"
    r"\b(?:am|are|is|['’]re|['’]m|im|were)\s+(?:\w+\s+)?moving\s+(?:back\s+|over\s+)?to\b|"
    r"\bfrom\s+(?:next|tomorrow|monday|tuesday|wednesday|thursday|friday|saturday|sunday|january|february|march|april|"
    r"may|june|july|august|september|october|november|december)\b(?!\s*(?:to|till|until|through|thru|-|–)\s)|\b(?:go|will|gonna|going to)\s+start\b|"
    r"\b(?:want|wanted|wanna|would love|['’]d love)\s+to\s+(?:be|become|learn|fly|get|have|live|move|try|start|own|buy)\b|"
    r"\bin spirit\b|\bin (?:a|one|two|three|four|five|ten|a few|\d+) years?(?! ago)\b",
    re.IGNORECASE,
)
_FIRST_PERSON = re.compile(
    r"\b(?:i|i'm|im|i've|ive|i'd|i'll|me|my|mine|myself|we|we're|we've|our|ours|us)\b|\bi[’'](?:m|ve|d|ll)\b",
    re.IGNORECASE,
)
_THIRD_PERSON = re.compile(r"\b(?:she|he|they|she['’]?s|he['’]?s|they['’]?re)\b",
                           re.IGNORECASE)
_REQUEST_START = re.compile(r"^\W*(?:(?:can|could|would|will) (?:you|u|ya)|please|pls|plz|help)\b", re.IGNORECASE)
_AFFIRM = re.compile(
    r"^\W*(?:yes|yeah|yep|yup|yea|ya|right|correct|exactly|indeed|sure|true|that's (?:right|me|true|correct)|"
    r"thats (?:right|me)|uh-?huh|mhm|affirmative|absolutely|definitely|of course|you got it|spot on)\b",
    re.IGNORECASE,
)
_SELF_NAMING = re.compile(r"(?:\b(?:i'?m|i am|my name'?s|my name is|(?:call|calls|called) me|this is|it'?s|signed|"
                          r"sign(?: it| only| just| with| off| as| from me)*|regards|cheers|under my name)|"
                          r"(?:^|[.!?\n])\s*put)[,:]?\s*$",
                          re.IGNORECASE)
_SELF_AFTER = re.compile(r"^\W{0,3}(?:here\b|[^.!?\n]{0,30}\b(?:that'?s|is|it'?s) me\b)", re.IGNORECASE)
_OPENS_WITH = re.compile(r"^\W*(?:(?:yes|yeah|yep|ya|it'?s|its|i'?m|im)\W+)?$", re.IGNORECASE)


def mentions(name: str, text: str) -> list[tuple[str, str]]:
    """Where `text` names `name` (a whole word, any case): the text (before, after) each mention."""
    return [(text[: m.start()], text[m.end():])
            for m in re.finditer(rf"(?<!\w){re.escape(name)}(?!\w)", text, re.IGNORECASE)]


def names_self(name: str, text: str, asked_name: bool = False) -> bool:
    """Does the user give `name` as their own name in `text`? Only with a cue: "I'm Evan", "my name is Evan",
    "call me Evan", "sign it Evan", "under my name, Evan", "Evan here", "Evan, that's me", or the name
    opening a reply to a question about their name (`asked_name`). People name others far more often
    than themselves ("Birgitta says it's fine", "Hey Evan!", a pasted "Hi Nadia, it's Callum")."""
    for before, after in mentions(name, text):
        if _SELF_NAMING.search(before) or _SELF_AFTER.match(after):
            return True
        if asked_name and _OPENS_WITH.match(before):
            return True
    return False


_INTERJECTION = (r"(?:hey|hi|hiya|hello|yo|oh|ah|aw+|wow|whoa|woah|thanks|thank you|thanks so much|cheers|congrats|"
                 r"congratulations|yeah|yes|yep|no|sorry|haha|lol|ok|okay|morning|good morning|evening|dear|sure|right|well)")
_ADDRESS_BEFORE = re.compile(rf"(?:^|[.!?\n])\s*(?:{_INTERJECTION}[ \t,]+)+$", re.IGNORECASE)  # "Hey ", "Wow, "
_OPENS_SENTENCE = re.compile(r"(?:^|[.!?\n])\s*$")
_TO_YOU = re.compile(r"^\s*,\s*(?:you|your|you're|youre|u|ur|thanks|thank you)\b", re.IGNORECASE)  # "Calvin, you won't…"
_CLOSES = re.compile(r"^\s*(?:[!?.]+|$)")
_CLAUSE_BEFORE_COMMA = re.compile(r"(?:^|[.!?\n])([^.!?\n]*),\s*$")  # "That's great, " before "Evan!"


def addressed(name: str, text: str) -> bool:
    """Does the user speak *to* `name` in `text` ("Hey Calvin!", "Wow, Caroline, that's so nice", "Calvin, you
    won't believe it", "That's great, Evan!")? A name in the vocative is the addressee, never a value of the
    user's facts. "leeds, for now" and "I'm from Hull, England." address nobody."""
    for before, after in mentions(name, text):
        if _ADDRESS_BEFORE.search(before) and re.match(r"\s*(?:[,!?]|$)", after):
            return True
        if _OPENS_SENTENCE.search(before) and _TO_YOU.match(after):
            return True
        clause = _CLAUSE_BEFORE_COMMA.search(before)
        if clause and _CLOSES.match(after) and not first_person(clause.group(1)) and len(clause.group(1).split()) <= 5:
            return True
    return False


def own_words(text: str) -> str:
    """`text` with pasted material and quotations of others replaced by placeholders."""
    text = _FENCE.sub(f" {PASTED} ", text)
    text = _pasted_paragraphs(text)
    lines = text.split("\n")
    out: list[str] = []
    for i, line in enumerate(lines):
        if line.lstrip().startswith(">"):
            out.append(PASTED)
            continue
        if (i > 0 and _EMAIL_START.match(line.strip())) or _FORWARDED.search(line):
            out.append(PASTED)
            break
        m = _INTRO.search(line)
        if m:
            rest = line[m.end():].strip()
            follows = rest or any(x.strip() for x in lines[i + 1:])
            if follows:
                out.append(line[: m.end()] + f" {PASTED}")
                break
        out.append(line)
        # "can you shorten this" + a blank line + a block: the block is pasted
        if (_REQUEST.search(line) and i + 2 < len(lines) and not lines[i + 1].strip()
                and sum(len(x) for x in lines[i + 2:]) > 80):
            out.append(PASTED)
            break
    text = "\n".join(out)
    for rx in _QUOTES:
        text = rx.sub(lambda m: QUOTED if _is_speech(m, text) else m.group(0), text)
    return _SAID_UNMARKED.sub(_said, text)


def _said(m: re.Match) -> str:
    """The speech verb kept, the words it reports replaced ("goes [quote]")."""
    verb = re.match(r"\w+(?: like)?", m.group(0)).group(0)
    return f"{verb} {QUOTED} "


def _pasted_paragraphs(text: str) -> str:
    """Paragraphs of a turn that are someone else's text, replaced (see `_POINTS_AT`)."""
    paragraphs = _PARAGRAPH.split(text)
    if len(paragraphs) < 2:
        return text
    first, last = paragraphs[0], paragraphs[-1]
    if (len(first) <= 240 and _POINTS_AT.search(first) and _ASKS_ABOUT.search(first)
            and sum(len(p) for p in paragraphs[1:]) > 80):
        return f"{first}\n\n{PASTED}"
    if len(last) <= 120 and _ASK_AFTER.search(last) and sum(len(p) for p in paragraphs[:-1]) > 80:
        return f"{PASTED}\n\n{last}"
    for i, p in enumerate(paragraphs[1:], 1):
        if _LETTER_OPENS.match(p):
            return "\n\n".join(paragraphs[:i] + [PASTED])
    return text


def _is_speech(m: re.Match, text: str) -> bool:
    """Is the quoted span someone speaking (not a title or a word the user puts in quotes)?"""
    inside = m.group(0)[1:-1]
    return bool(_SPEECH.search(text[max(0, m.start() - 30): m.start()]) or _FIRST_PERSON.search(inside))


def sentences(text: str) -> list[str]:
    """`text` cut into sentences (at . ! ? … and line breaks)."""
    return [s.strip() for s in _SENTENCE.split(text) if s.strip()]


def first_person(text: str) -> bool:
    """Does `text` speak in the first person (I, me, my, we, our…)?"""
    return bool(_FIRST_PERSON.search(text))


def of_someone_else(text: str) -> bool:
    """Is `text` about someone else: no first person, and a he, she or they doing the talking ("femke sent
    pics, shes the only vet in cape town")? Without a pronoun it may be the user with the "I" dropped
    ("sold the hilux n bought a subaru today")."""
    return not first_person(text) and bool(_THIRD_PERSON.search(text))


_CLAUSE = re.compile(r"[.!?…;:\n]+|,\s+|\s+(?:cos|coz|cuz|cause|because|bc|since|so|and|but|while|whereas|n)\s+",
                     re.IGNORECASE)


_THEIRS = (r"(?:^|\s)(?:she|he|they)(?:['’]s|['’]re|\s+(?:is|was|are|were|works?\s+(?:as|at|in|for)|lives?\s+in|is\s+from|"
           r"comes?\s+from))\s+(?:(?:a|an|the|from|in|at|also|still|now|literally|basically|really|actually|just)\s+)*")


def said_of_someone_else(value: str, text: str) -> bool:
    """Is `value` said only of someone else in `text`: every clause naming it gives it to a he, she or they
    and speaks in no first person ("i'm on a late tomorrow and priya's on nights cos she's a midwife": her
    job, not the user's)? "he's been taking the d-max round" is not his car: only "she's/he is/they work as
    … <value>" counts. A value the text does not name word for word is not judged here."""
    clauses = [c for c in _CLAUSE.split(text) if mentions(value, c)]
    return bool(clauses) and all(not first_person(c) and re.search(_THEIRS + rf"{re.escape(value)}(?!\w)", c,
                                                                     re.IGNORECASE) for c in clauses)


_TAKES_BACK = re.compile(r"^\W*(?:(?:ok|okay|and|but)\W+)?(?:well|i mean|or rather|at least|technically|officially)\b",
                         re.IGNORECASE)


def statements(text: str, questions: bool = False) -> str:
    """The user's own statements in `text`: no pasted or quoted text, questions, hypotheticals or secrets, nor a
    sentence the next one takes back as a plan ("basically a vegan now. well, from monday"); one sentence a line (a chat turn's line breaks end sentences that carry no full stop: "like 60 euro
    max\nim 16 not a millionaire"). `questions`: keep them (a name the user asks about is a name they use)."""
    kept, previous = [], None
    for s in sentences(own_words(text)):
        if s.endswith("?") and not questions:  # "I'm from Oslo, how about you?" keeps "I'm from Oslo"
            m = _TAIL_QUESTION.match(s)
            s = m.group(1).strip() if m and not _QUESTION_START.match(s) else ""
        if s and _HYPOTHETICAL.search(s) and _TAKES_BACK.match(s) and kept and kept[-1] == previous:
            kept.pop()  # "I'm practically an aqua aerobics devotee now. Well, from Monday…": not yet, after all
        previous = s
        if not s or (_ASKING.match(s) and not questions) or _HYPOTHETICAL.search(s) or contains_secret(s):
            continue
        kept.append(s)
    return "\n".join(kept)


def affirms(text: str) -> bool:
    """Does the turn start by confirming what was said to it ("yes", "yep, that's me")?"""
    return bool(_AFFIRM.match(text))


def speaks_of_self(own: str, previous_assistant: str | None = None) -> bool:
    """The pre-filter: could this turn state a fact about the user? (`own`: `statements(turn)`)

    Turns with nothing of the user's own left, short replies ("lol", "ty!", "ok good") and
    requests ("can you shorten this: …") with no first person that answer no question skip the
    model. Longer ones do not: people drop the "I" ("sold the hilux n bought a subaru today")."""
    if not own.strip():
        return False
    if first_person(own):
        return True
    if len(re.findall(r"\w+", own)) >= 4 and not _REQUEST_START.match(own):
        return True
    asked = bool(previous_assistant) and previous_assistant.rstrip().endswith("?")
    return asked or affirms(own)
