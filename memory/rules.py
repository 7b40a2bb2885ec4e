"""The template rules: the baseline fact extractor (`memory.extractor = "rules"`).

Precision over recall: a clause yields a fact only when it matches one of the templates
below *and* passes every filter (no question, no hypothetical / wish / negation / reported
speech, no past-only tense, no secret). Attributes are named as in `memory.shapes`.
The model-based extractor replaced these rules as the default (bench/detection.py compares them).
"""

from __future__ import annotations

import re

from memory.secrets import contains_secret
from memory.shapes import PET_KINDS
from memory.values import attribute_key
from memory.voice import QUESTION_WORDS

__all__ = ["extract_rule_facts"]


# --------------------------------------------------------------------------- filters

_HYPOTHETICAL = re.compile(
    r"\b(?:if|wish|wished|wishes|would|wouldn't|could|couldn't|might|maybe|perhaps|hope|hoping|"
    r"hopefully|want|wants|wanted|wanna|gonna|going to|plan|plans|planning|thinking about|"
    r"thinking of|consider|considering|imagine|imagined|suppose|supposed|pretend|pretending|"
    r"someday|some day|one day|dream|dreaming|dreamed|dreamt|should|shall|unless|whether|"
    r"as if|hypothetically|let's say|kidding|joking|lol|jk|assume|assuming|probably|possibly|"
    r"rather|prefer to|will|i'll|we'll|may|when|whenever|until|once|before|after|"
    r"used to|usually wish|about to|soon|next (?:year|month|week)|in the future|someone|"
    r"pretend|role ?play|story|character|fictional|game)\b",
    re.IGNORECASE,
)
_NEGATION = re.compile(
    r"\b(?:not|never|no longer|no more|nobody|none|neither|nor|without|hardly|barely)\b|n't\b|n’t\b",
    re.IGNORECASE,
)
_REPORTED = re.compile(
    r"\b(?:said|says|say|told|tell|tells|thinks|think|thought|believe|believes|believed|guess|"
    r"heard|hear|rumou?r|supposedly|apparently|claims?|claimed|asked|asks|ask|wonder|wondering|"
    r"remind me|reminds|remember when|pretends?|you|your|you're|yours|his|her|their|they|he|she)\b",
    re.IGNORECASE,
)
# hedges that undo a statement wherever they appear in its clause
_HEDGE = re.compile(
    r"\b(?:i think|i guess|i suppose|i believe|i assume|maybe|probably|perhaps|kidding|jk|joking|"
    r"not really|or not|apparently|supposedly|allegedly|in my dreams|i wish|used to|anymore|"
    r"no longer|not anymore|or something|i'm not sure|not sure|pretend|hypothetically)\b",
    re.IGNORECASE,
)
_UPDATE = re.compile(
    r"\b(?:now|moved|moving|relocated|changed|switched|new|anymore|these days|recently|just|"
    r"started|starting|no longer|since|got a job|joined)\b",
    re.IGNORECASE,
)
_FILLER = re.compile(
    r"^(?:(?:oh|ok|okay|well|yeah|yes|yep|yup|so|also|and|but|btw|by the way|actually|anyway|"
    r"anyways|fyi|just so you know|for the record|as i said|like i said|as i mentioned|"
    r"as mentioned|as you know|remember|haha|hah|lol|hmm|um|uh|right|sure|true|indeed|"
    r"honestly|basically|fun fact|funny enough|funnily enough|in fact|of course|ah|hey|hi|hello|"
    r"no|nah|nope|well actually|oh and|oh by the way|and yes|quick update|update|news|"
    r"good news|big news|also btw|thanks|thank you|cool|nice|wow|great|awesome|yay|ugh|sigh|"
    r"omg|aw|aww|oops|sweet|totally|exactly|definitely|absolutely|true that|ha|heh)\b[,:!\-—.]*\s+)+",
    re.IGNORECASE,
)

_PRONOUN_VALUES = {
    "it", "this", "that", "there", "here", "home", "work", "something", "someone", "somewhere",
    "anything", "everything", "nothing", "a lot", "lots", "fine", "good", "great", "ok", "okay",
    "busy", "tired", "me", "myself", "us", "them", "him", "her", "you", "the same", "same",
    "lot", "bit", "little", "while", "way", "one", "thing", "stuff",
}
_BAD_VALUE_START = re.compile(
    r"^(?:so|very|really|pretty|kind of|kinda|sort of|a bit|a little|quite|too|going|doing|"
    r"getting|being|having|always|also|still|just|like|more|less|the best|the worst|"
    r"amazing|awesome|great|good|bad|fine|ok|okay|nice|lovely|terrible|busy|crazy|fun|"
    r"funny|weird|cute|sweet|wild|hard|easy|tough|insane|exhausting)\b",
    re.IGNORECASE,
)

# trailing material that is not part of a value
_VALUE_CUT = re.compile(
    r"\s*(?:,|;|:|\(|\s-\s|—|–|\.\.\.|!|\?|\.(?:\s|$)|\s(?:now|these days|nowadays|since|for (?:about |almost |over |nearly |the past |a |an |\d)|"
    r"at the moment|right now|currently|as well|too|lol|haha|btw|though|which|who|where|"
    r"that|and i|and my|and we|but|with my|with our|because|since|so|and it|and that|and he|"
    r"and she|and they|last|this|every|each|again|anyway|already|yet|full[- ]time|part[- ]time|"
    r"as a\b|as an\b|with\b|from\b(?! the)|in the\b|on the\b|near\b|close to\b|downtown|today|"
    r"tonight|yesterday|tomorrow|years?\b|months?\b|weeks?\b|days?\b|ago|lately|here|there|"
    r"when|while|after|before|until|if|to|every|mostly|most|on weekends|on sundays)\b).*$",
    re.IGNORECASE,
)

# --------------------------------------------------------------------------- vocabularies

_PETS = "|".join(PET_KINDS)
_PEOPLE = (
    r"son|daughter|kid|child|baby|wife|husband|partner|spouse|boyfriend|girlfriend|"
    r"fianc[ée]e?|fiance|fiancee|sister|brother|sibling|twin|mom|mum|mother|dad|father|"
    r"stepmom|stepdad|stepmother|stepfather|stepson|stepdaughter|grandma|grandmother|granny|"
    r"grandpa|grandfather|grandson|granddaughter|aunt|uncle|cousin|niece|nephew|"
    r"best friend|friend|boss|manager|roommate|flatmate|housemate|neighbou?r|landlord|"
    r"landlady|therapist|doctor|dentist|coach|mentor|colleague|co-?worker|supervisor"
)
_REL_ADJ = r"(?:(?:little|big|older|younger|baby|eldest|oldest|youngest|twin|new|step|best|"\
           r"golden|black|white|rescue|first|second|third)\s+)?"
_REL = rf"(?P<rel>{_REL_ADJ}(?:{_PETS}|{_PEOPLE}))"

_REL_NORMAL = {
    "mom": "mother", "mum": "mother", "dad": "father", "stepmom": "stepmother",
    "stepdad": "stepfather", "fiance": "fiancé", "fiancee": "fiancée", "neighbour": "neighbor",
    "co-worker": "coworker", "granny": "grandmother", "grandma": "grandmother",
    "grandpa": "grandfather",
}

_NAME = r"(?P<val>[A-ZÀ-Þ][\w'’\-]*(?:\s+[A-ZÀ-Þ][\w'’\-]*){0,2})"
_NOT_NAMES = {
    "I", "I'm", "I've", "I'd", "I'll", "The", "A", "An", "And", "But", "So", "My", "Our", "He",
    "She", "It", "They", "We", "You", "Yes", "No", "Oh", "Well", "Hey", "Hi", "Hello", "Thanks",
    "Thank", "Please", "Sorry", "Ok", "Okay", "Lol", "Haha", "Also", "Btw", "This", "That",
    "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday", "Today",
    "Tomorrow", "Yesterday", "Mr", "Mrs", "Ms", "Dr", "Actually", "Anyway", "Just", "Really",
    "Is", "Was", "Has", "Had", "Who", "What", "When", "Where", "Why", "How", "Did", "Does",
    "Do", "Can", "Could", "Would", "Should", "Will", "Christmas", "Easter", "Halloween",
}
_PLACE = r"(?P<val>(?:the\s+)?[A-ZÀ-Þ][\w'’.\-]*(?:\s+(?:[A-ZÀ-Þ][\w'’.\-]*|de|del|da|di|do|du|la|le|upon|on|of|am|an|im|sur|\d+)\b)*)"
_ORG = r"(?P<val>(?:the\s+)?(?:[A-ZÀ-Þ0-9][\w'’&.\-]*)(?:\s+(?:[A-ZÀ-Þ0-9][\w'’&.\-]*|of|for|and|&|de|the)\b)*)"

_OCCUPATIONS = {
    "nurse", "teacher", "engineer", "developer", "programmer", "doctor", "lawyer", "accountant",
    "designer", "architect", "chef", "cook", "baker", "pilot", "firefighter", "officer",
    "researcher", "student", "professor", "lecturer", "writer", "journalist", "editor", "artist",
    "musician", "photographer", "electrician", "plumber", "carpenter", "mechanic", "farmer",
    "dentist", "vet", "veterinarian", "therapist", "consultant", "analyst", "manager",
    "librarian", "paramedic", "surgeon", "translator", "interpreter", "barista", "waiter",
    "waitress", "cashier", "driver", "salesperson", "tutor", "counselor", "counsellor",
    "worker", "nanny", "midwife", "sailor", "fisherman", "soldier", "administrator",
    "clerk", "secretary", "assistant", "technician", "mechanic", "bartender", "caretaker",
    "janitor", "gardener", "florist", "hairdresser", "barber", "butcher", "tailor", "broker",
    "banker", "trader", "auditor", "actor", "actress", "dancer", "singer", "composer",
    "producer", "director", "coach", "trainer", "instructor", "planner", "scientist",
    "economist", "physicist", "chemist", "biologist", "pharmacist", "optometrist",
    "physiotherapist", "dietitian", "nutritionist", "psychologist", "psychiatrist",
    "archaeologist", "geologist", "glaciologist", "meteorologist", "statistician",
    "mathematician", "historian", "curator", "postman", "courier", "welder", "roofer",
    "painter", "sculptor", "illustrator", "animator", "copywriter", "marketer", "recruiter",
    "realtor", "agent", "ranger", "guide", "inspector", "surveyor", "pastor", "priest",
    "rabbi", "imam", "intern", "apprentice", "freelancer", "entrepreneur", "ceo", "cto",
    "founder", "coder", "tester", "sysadmin", "dev", "ux designer", "paralegal", "vet tech",
    "firefighter", "policeman", "policewoman", "detective", "judge", "doula", "carer",
    "caregiver", "housekeeper", "lifeguard", "zookeeper", "beekeeper", "brewer", "winemaker",
    "teaching assistant", "pediatrician", "paediatrician", "radiologist", "anesthesiologist",
    "cardiologist", "oncologist", "dermatologist", "neurologist", "surgeon",
}
_INSTRUMENTS = (
    r"piano|guitar|electric guitar|acoustic guitar|bass guitar|bass|violin|viola|cello|"
    r"double bass|drums|flute|saxophone|sax|trumpet|trombone|ukulele|harp|clarinet|banjo|"
    r"accordion|keyboard|harmonica|oboe|bassoon|tuba|mandolin|organ|synth|synthesizer|"
    r"french horn|horn|bagpipes|sitar|xylophone|recorder"
)
_SPORTS = (
    r"tennis|football|soccer|basketball|chess|golf|volleyball|hockey|ice hockey|badminton|"
    r"squash|rugby|baseball|cricket|handball|padel|table tennis|ping pong|pickleball|"
    r"bridge|poker|water polo|lacrosse|softball|ultimate frisbee|frisbee|netball|bowling|"
    r"darts|pool|snooker|curling|bandy|floorball|dungeons and dragons|d&d"
)
_VEHICLE_WORDS = {
    "car", "truck", "van", "pickup", "suv", "motorbike", "motorcycle", "scooter", "hatchback",
    "sedan", "wagon", "estate", "convertible", "minivan", "jeep", "coupe", "camper",
    "campervan", "station wagon", "ev", "hybrid", "moped",
}
_LANGS = (
    r"English|Norwegian|Swedish|Danish|Finnish|Icelandic|German|French|Spanish|Italian|"
    r"Portuguese|Dutch|Polish|Russian|Ukrainian|Czech|Slovak|Hungarian|Romanian|Greek|"
    r"Turkish|Arabic|Hebrew|Persian|Farsi|Hindi|Urdu|Bengali|Punjabi|Tamil|Telugu|Mandarin|"
    r"Cantonese|Chinese|Japanese|Korean|Vietnamese|Thai|Indonesian|Malay|Tagalog|Swahili|"
    r"Amharic|Yoruba|Zulu|Afrikaans|Catalan|Basque|Galician|Welsh|Irish|Gaelic|Latin|"
    r"Esperanto|Sign Language|ASL|BSL|Serbian|Croatian|Bosnian|Bulgarian|Slovenian|"
    r"Estonian|Latvian|Lithuanian|Sami|Northern Sami|Kurdish|Pashto|Nepali|Sinhala|Burmese|"
    r"Kannada|Malayalam|Marathi|Gujarati|Odia|Assamese|Sindhi|Hausa|Igbo|Somali|Tigrinya|Quechua|"
    r"Guarani|Hawaiian|Maori|Samoan|Tongan|Fijian|Javanese|Sundanese|Cebuano|Hmong|Tibetan|Uyghur|"
    r"Kazakh|Uzbek|Azerbaijani|Tajik|Kyrgyz|Turkmen|Belarusian|Macedonian|Breton|Corsican|Frisian|"
    r"Khmer|Lao|Mongolian|Georgian|Armenian|Albanian|Maltese|Luxembourgish|Faroese|Yiddish"
)
_MONTHS = (
    r"January|February|March|April|May|June|July|August|September|October|November|December|"
    r"Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec"
)
_DATE = (
    rf"(?P<val>(?:(?:the\s+)?\d{{1,2}}(?:st|nd|rd|th)?\s+(?:of\s+)?(?:{_MONTHS})|"
    rf"(?:{_MONTHS})\s+\d{{1,2}}(?:st|nd|rd|th)?))"
)
_CONDITIONS = (
    r"type 1 diabetes|type 2 diabetes|diabetes|asthma|celiac disease|coeliac disease|"
    r"epilepsy|migraines|adhd|arthritis|eczema|psoriasis|crohn's disease|crohn's|"
    r"hypertension|high blood pressure|ibs|hay fever|colour blindness|color blindness|"
    r"tinnitus|dyslexia|autism|an? (?:\w+ )?intolerance"
)
_NUMBER_WORDS = r"\d+|one|two|three|four|five|six|seven|eight|nine|ten|no"
_GENERIC_BAD_ATTR = {
    "day", "week", "weekend", "morning", "evening", "night", "life", "mood", "head", "back",
    "stomach", "plan", "plans", "point", "question", "guess", "bad", "fault", "pleasure", "turn",
    "answer", "problem", "issue", "concern", "goal", "dream", "hope", "idea", "opinion",
    "thought", "advice", "excuse", "reason", "mistake", "treat", "situation", "schedule",
    "phone", "computer", "laptop", "internet", "wifi", "heart", "mind", "bet", "god", "gosh",
    "goodness", "word", "experience", "feeling", "feelings", "life", "time", "year", "month",
    "trip", "vacation", "holiday", "flight", "train", "bus", "meeting", "appointment",
    "deadline", "shift", "break", "lunch", "dinner", "breakfast", "order", "bill", "story",
    "question", "name", "email", "address", "phone number", "number", "user", "account",
}


# --------------------------------------------------------------------------- helpers


def _clean_value(raw: str) -> str:
    v = raw.strip()
    v = _VALUE_CUT.sub("", v)
    v = re.sub(r"^(?:a|an)\s+", "", v, flags=re.IGNORECASE)  # "a green Volvo" -> "green Volvo"
    v = re.sub(r"^the\s+(?=[a-z])", "", v)
    v = v.strip(" .,'\"“”’!?")
    return re.sub(r"\s+", " ", v)


def _ok_value(v: str, max_words: int = 6) -> bool:
    if not v or v.casefold() in _PRONOUN_VALUES:
        return False
    if _BAD_VALUE_START.match(v):
        return False
    if len(v.split()) > max_words:
        return False
    return bool(re.search(r"\w", v))


def _norm_rel(rel: str) -> str:
    words = rel.casefold().split()
    words = [w for w in words if w != "new"]
    if words:
        words[-1] = _REL_NORMAL.get(words[-1], words[-1])
    return " ".join(words)


def _is_name(v: str) -> bool:
    first = v.split()[0]
    return first not in _NOT_NAMES and v not in _NOT_NAMES


# --------------------------------------------------------------------------- templates
# Each template: (compiled regex, handler(match) -> list[(attribute, value)] | None).
# Regexes are matched against the whole clause (after filler stripping) with fullmatch-ish
# anchoring; NAME / PLACE groups are case-sensitive, the rest is case-insensitive.

_T: list[tuple[re.Pattern, object]] = []


def _tpl(pattern: str, flags: int = 0):
    def deco(fn):
        _T.append((re.compile(pattern, flags), fn))
        return fn

    return deco


_I = r"(?i:i)"
_IM = r"(?i:i'm|i’m|i am|im)"
_MY = r"(?i:my|our)"
_CI = "(?i:{})".format


# names of pets / people
@_tpl(rf"^{_MY}\s+{_CI(_REL)}(?:'s|’s)\s+{_CI('name')}\s+{_CI('is')}\s+{_NAME}")
@_tpl(rf"^{_MY}\s+{_CI(_REL)}\s+{_CI('is called|is named|goes by|is nicknamed|name is')}\s+{_NAME}")
@_tpl(rf"^{_MY}\s+{_CI(_REL)},?\s+{_NAME}(?:,|\s+(?!(?i:and|or)\b)\w|\s*$)")
@_tpl(rf"^{_NAME},\s+{_MY}\s+{_CI(_REL)},")
@_tpl(rf"^{_MY}\s+{_CI(_REL)}\s+{_CI('is')}\s+{_NAME}\s*$")
@_tpl(rf"^{_NAME}\s+{_CI('is')}\s+{_MY}\s+{_CI(_REL)}(?:(?:'s|’s) {_CI('name')})?(?:\s*$|\s*,|\s+(?i:and|but|so)\b)")
@_tpl(rf"^{_I}\s+{_CI('have|own|got')}\s+{_CI('a|an|two|three')}\s+{_CI(_REL)}\s+{_CI('named|called')}\s+{_NAME}")
def _rel_name(m):
    v = m.group("val").strip()
    if not _is_name(v):
        return None
    rel = _norm_rel(m.group("rel"))
    return [(f"{rel}'s name", v)]


@_tpl(rf"^{_MY}\s+{_CI('name is')}\s+{_NAME}\s*$")
@_tpl(rf"^{_CI('please call me|call me|i go by|everyone calls me')}\s+{_NAME}\s*$")
def _own_name(m):
    v = m.group("val")
    return [("name", v)] if _is_name(v) else None


@_tpl(rf"^{_CI('i|we')}\s+{_CI('(?:currently |now |still |actually )?')}"
      rf"{_CI('live|reside|am living|are living|.m living|.re living|have lived|.ve lived|have been living|.ve been living')}\s+"
      rf"{_CI('in')}\s+{_PLACE}")
@_tpl(rf"^{_CI('i|we')}\s+{_CI('(?:just |recently |finally |also )?')}{_CI('moved|relocated')}\s+{_CI('to')}\s+{_PLACE}")
@_tpl(rf"^{_CI('i|we')}\s*(?i:'m|’m| am|'re|’re| are)\s+{_CI('(?:now |currently )?')}{_CI('based|located|living')}\s+{_CI('in|out of')}\s+{_PLACE}")
@_tpl(rf"^{_MY}\s+{_CI('home|home city|current city')}\s+{_CI('is')}\s+{_CI('(?:now )?')}(?:{_CI('in')}\s+)?{_PLACE}")
@_tpl(rf"^{_CI('home')}\s+{_CI('is')}\s+{_CI('(?:now )?')}{_PLACE}\s*$")
def _home(m):
    return [("home city", m.group("val"))]


@_tpl(rf"^{_IM}\s+{_CI('originally ')}?{_CI('from')}\s+{_PLACE}")
@_tpl(rf"^{_I}\s+{_CI('grew up|was born and raised|was raised')}\s+{_CI('in')}\s+{_PLACE}")
@_tpl(rf"^{_MY}\s+{_CI('hometown|home town')}\s+{_CI('is')}\s+{_PLACE}")
def _hometown(m):
    return [("hometown", m.group("val"))]


@_tpl(rf"^{_I}\s+{_CI('was born')}\s+{_CI('in')}\s+(?P<val>(?:19|20)\d\d)\b")
def _birth_year(m):
    return [("birth year", m.group("val"))]


@_tpl(rf"^{_I}\s+{_CI('was born')}\s+{_CI('in')}\s+{_PLACE}")
def _birthplace(m):
    return [("birthplace", m.group("val"))]


@_tpl(rf"^{_CI('my birthday is|my birthday.s|i was born on|my bday is')}\s+{_CI('on ')}?{_DATE}")
def _birthday(m):
    return [("birthday", m.group("val"))]


@_tpl(rf"^{_I}\s+{_CI('(?:currently |now |still |actually )?')}"
      rf"{_CI('work|am working|.m working|have worked|.ve worked|.ve been working|have been working|started working|just started working|started a new job|got a job|got a new job|just started a new job|just got a job|just got a new job|am employed|.m employed|am now working|.m now working')}\s+"
      rf"{_CI('at|for|with|by')}\s+{_ORG}")
@_tpl(rf"^{_MY}\s+{_CI('employer|company|workplace|new employer|new company|new job')}\s+{_CI('is')}\s+{_CI('(?:now )?')}{_ORG}")
@_tpl(rf"^{_MY}\s+{_CI('new job|job')}\s+{_CI('is')}\s+{_CI('at')}\s+{_ORG}")
def _employer(m):
    return [("employer", m.group("val"))]


def _job_ok(v: str) -> bool:
    words = v.casefold().split()
    if not words or len(words) > 4:
        return False
    last = words[-1]
    if " ".join(words[-2:]) in _OCCUPATIONS or last in _OCCUPATIONS:
        return True
    return last.endswith(("ologist", "ician", "ist", "eer")) and len(last) > 5


@_tpl(rf"^{_I}\s+{_CI('(?:currently |now |still )?')}{_CI('work as|am working as|.m working as|work full-time as|work part-time as')}\s+"
      rf"{_CI('an? ')}?(?P<val>[\w\- ]+)")
@_tpl(rf"^{_IM}\s+{_CI('(?:now |currently |actually |still )?')}{_CI('an? ')}(?P<val>[\w\- ]+?)(?:\s+{_CI('by profession|by trade|at|for|in')}\b[^,]*)?(?:\s*$|\s*,.*$|\s+(?i:and|so|but|too)\b.*$)")
@_tpl(rf"^{_MY}\s+{_CI('job|job title|profession|occupation|role|title')}\s+{_CI('is')}\s+{_CI('(?:now )?')}{_CI('an? ')}?(?P<val>[\w\- ]+)")
def _job(m):
    raw = m.group("val")
    if raw.strip().casefold() == "student" and re.search(r"(?i)\bstudent at\b", m.string):
        return None  # "I'm a student at <school>" is the school template's
    parts = re.split(r"\s+(?:at|for|with)\s+(?=(?:the\s+)?[A-Z0-9])", raw, maxsplit=1)
    v = _clean_value(parts[0])
    if not _job_ok(v):
        return None
    out = [("job title", v)]
    if len(parts) == 1:
        after = re.match(r"\s+(?:at|for)\s+" + _ORG, m.string[m.end("val"):])
        if after:
            parts = [parts[0], after.group("val")]
    if len(parts) == 2:
        org = re.match(_ORG, parts[1])
        if org:
            out.append(("employer", org.group("val")))
    return out


def _vehicle_ok(v: str) -> bool:
    words = v.split()
    if any(w.casefold() in _VEHICLE_WORDS for w in words):
        return True
    return any(w[:1].isupper() or any(c.isdigit() for c in w) for w in words)


@_tpl(rf"^{_I}\s+{_CI('(?:currently |now |still )?')}{_CI('drive')}\s+(?P<val>{_CI('an?|the')}\s+.+|[A-Z].+)")
@_tpl(rf"^{_MY}\s+{_CI('(?:new )?')}{_CI('car|vehicle|ride')}\s+{_CI('is')}\s+{_CI('(?:now )?')}(?P<val>{_CI('an?')}\s+.+)")
@_tpl(rf"^{_I}\s+{_CI('(?:just |recently )?')}{_CI('bought|got')}\s+(?P<val>{_CI('an?|a new')}\s+.+)")
def _car(m):
    v = _clean_value(re.split(r"\s+(?:and|but|so|which|that)\s+", m.group("val"))[0])
    v = re.sub(r"^(?i:new|used|second-hand)\s+", "", v)
    if not _vehicle_ok(v) or len(v.split()) > 5:
        return None
    if m.re.pattern.startswith(rf"^{_I}\s+{_CI('(?:just |recently )?')}{_CI('bought|got')}"):
        # "I bought a ..." only counts for vehicles that are named explicitly
        if not any(w.casefold() in _VEHICLE_WORDS or w[:1].isupper() for w in v.split()):
            return None
        if not any(w[:1].isupper() for w in v.split()) or v.split()[0] in _NOT_NAMES:
            return None
    return [("car", v)]


def _split_list(v: str) -> list[str]:
    parts = re.split(r"\s*,\s*|\s+and\s+|\s+&\s+|\s*/\s*", v)
    return [p.strip() for p in parts if p.strip()]


@_tpl(rf"^{_IM}\s+{_CI('(?:severely |very |mildly |deathly |highly |really |super |also )?')}{_CI('allergic to')}\s+(?P<val>.+)")
@_tpl(rf"^{_I}\s+{_CI('have|.ve got|have got')}\s+{_CI('an?|a severe|a bad|a serious')}\s+(?P<val>[\w\- ]+?)\s+{_CI('allergy')}")
def _allergy(m):
    raw = re.split(r"(?i)\s*[,;]?\s*\b(?:so|which|but|because|since|it|that)\b", m.group("val"))[0]
    if "," in raw and not re.search(r"\b(?:and|or)\b|&", raw):
        raw = raw.split(",")[0]  # "peanuts, sadly": a comment, not a list
    vals = []
    for part in _split_list(raw):
        v = _clean_value(part)
        if _ok_value(v, 4):
            vals.append(v)
    return [("allergy", v) for v in vals] or None


@_tpl(rf"^{_IM}\s+{_CI('(?:also |severely |very )?')}(?P<val>{_CI('lactose|gluten|fructose|histamine')})\s+{_CI('intolerant')}")
def _intolerance(m):
    return [("intolerance", m.group("val").lower())]


@_tpl(rf"^{_IM}\s+{_CI('(?:a |an |strictly |strict |fully )?')}(?P<val>{_CI('vegetarian|vegan|pescatarian|pescetarian|flexitarian')})(?:\s*$|\s*,|\s+(?i:and|but|so|too|now)\b)")
def _diet(m):
    v = m.group("val").lower().replace("pescetarian", "pescatarian")
    return [("diet", v)]


@_tpl(rf"^{_I}\s+{_CI('have|.ve got|have got|live with|suffer from')}\s+(?P<val>{_CI(_CONDITIONS)})(?=\s*$|\s*,|\s+(?i:and|so|but|too|now)\b)")
@_tpl(rf"^{_IM}\s+(?P<val>{_CI('diabetic|celiac|coeliac|epileptic|asthmatic|colou?r ?blind|dyslexic|autistic')})\s*$")
def _condition(m):
    return [("medical condition", m.group("val").lower())]


@_tpl(rf"^{_MY}\s+{_CI('blood type is|blood group is')}\s+(?P<val>(?:AB|A|B|O)\s*(?:[+-]|positive|negative)?)")
def _blood(m):
    return [("blood type", m.group("val").strip())]


@_tpl(rf"^{_IM}\s+(?P<val>\d{{1,3}})\s*{_CI('years old|year old|yrs old|yo')}\b")
@_tpl(rf"^{_IM}\s+(?P<val>\d{{2,3}})(?=\s*,|\s*$)")
@_tpl(rf"^{_CI('i just turned|i turned')}\s+(?P<val>\d{{1,3}})\s*$")
def _age(m):
    v = m.group("val")
    return [("age", v)] if 3 <= int(v) <= 120 else None


@_tpl(rf"^{_I}\s+{_CI('speak|also speak|can speak|am fluent in|.m fluent in|speak fluent')}\s+(?P<val>(?:{_LANGS})(?:\s*(?:,|and|&)\s*(?:{_LANGS}))*)")
def _langs(m):
    return [("speaks language", v) for v in _split_list(m.group("val"))]


@_tpl(rf"^{_I}\s+{_CI('(?:also )?')}{_CI('play')}\s+{_CI('the')}\s+(?P<val>{_CI(_INSTRUMENTS)})\b")
@_tpl(rf"^{_I}\s+{_CI('(?:also )?')}{_CI('play')}\s+(?P<val>{_CI(_INSTRUMENTS)})\s*$")
def _instrument(m):
    return [("plays instrument", m.group("val").lower())]


@_tpl(rf"^{_I}\s+{_CI('(?:also )?')}{_CI('play|coach')}\s+(?P<val>{_CI(_SPORTS)})\b")
def _sport(m):
    return [("plays sport", m.group("val").lower())]


@_tpl(rf"^{_MY}\s+{_CI('favou?rite')}\s+(?P<what>[\w\-]+(?:\s+[\w\-]+){{0,2}}?)\s+{_CI('is|are|has to be|would be')}\s+(?P<val>.+)")
def _favorite(m):
    what = m.group("what").lower()
    if what in {"thing", "part", "way", "time", "moment", "place to", "thing to"} or " to" in what:
        return None
    v = _clean_value(m.group("val"))
    if not _ok_value(v, 5):
        return None
    return [(f"favorite {what}", v)]


@_tpl(rf"^{_I}\s+{_CI('have|.ve got|have got')}\s+(?P<val>{_CI(_NUMBER_WORDS)})\s+(?P<what>{_CI('kids|children|sons|daughters|siblings|brothers|sisters|cats|dogs|grandchildren|grandkids|kid|child|son|daughter|sibling|brother|sister|cat|dog')})(?=\s*$|\s*,|\s+(?i:and|so|but|too|now)\b)")
def _count(m):
    what = m.group("what").lower()
    plural = {"kid": "kids", "child": "children", "son": "sons", "daughter": "daughters",
              "sibling": "siblings", "brother": "brothers", "sister": "sisters", "cat": "cats",
              "dog": "dogs"}.get(what, what)
    return [(f"number of {plural}", m.group("val").lower())]


@_tpl(rf"^{_I}\s+{_CI('have|own|.ve got|have got')}\s+{_CI('an?')}\s+(?:\w+\s+)?(?P<val>{_CI(_PETS)})\s*$")
def _pet(m):
    return [("pet", m.group("val").lower())]


@_tpl(rf"^{_I}\s+{_CI('(?:currently )?')}{_CI('study|am studying|.m studying|major in|.m majoring in|am majoring in')}\s+(?P<val>(?!at\b)[\w ]+)")
def _study(m):
    v = _clean_value(re.split(r"(?i)\s+(?:at|and|but|because|so|in|with|for)\s+", m.group("val"))[0])
    if not _ok_value(v, 4):
        return None
    return [("field of study", v)]


@_tpl(rf"^{_I}\s+{_CI('(?:currently )?')}{_CI('study at|go to|attend|am studying at|.m studying at|am a student at|.m a student at')}\s+{_ORG}")
def _school(m):
    v = _clean_value(m.group("val"))
    if not re.search(r"(?i)university|college|school|academy|institute|polytechnic|uni\b|NTNU|MIT|UCL", v):
        return None
    return [("school", v)]


@_tpl(rf"^{_IM}\s+{_CI('(?:happily )?')}(?P<val>{_CI('married|single|divorced|engaged|widowed')})\s*$")
def _rel_status(m):
    return [("relationship status", m.group("val").lower())]


@_tpl(rf"^{_IM}\s+{_CI('(?:happily )?married to')}\s+{_NAME}")
def _married(m):
    v = m.group("val")
    return [("spouse's name", v)] if _is_name(v) else None


@_tpl(rf"^{_I}\s+{_CI('support|root for|cheer for')}\s+{_ORG}(?=\s*$|\s*,|\s+(?i:and|so|but|too|now)\b)")
def _team(m):
    return [("supports team", m.group("val"))]


@_tpl(rf"^{_MY}\s+(?P<thing>{_CI('office|desk|school|gym|studio|workplace|apartment|flat|house|lab|team|classroom|clinic|shop|store|cabin|workshop|locker|parking spot')})\s+"
      rf"{_CI('is|has moved')}\s+{_CI('(?:now |currently |located |also |still |moving )*')}(?P<prep>{_CI('in|at|on|to')})\s+(?P<val>.+)")
def _location(m):
    v = _clean_value(m.group("val"))
    if not _ok_value(v, 6) or v.casefold() in {"home", "work", "town", "the city", "the way"}:
        return None
    return [(f"{m.group('thing').lower()} location", v)]


@_tpl(rf"^{_MY}\s+{_CI(_REL)}\s+{_CI('lives|now lives|still lives|is living|moved')}\s+{_CI('in|to')}\s+{_PLACE}")
def _rel_home(m):
    rel = _norm_rel(m.group("rel"))
    return [(f"{rel}'s home city", m.group("val"))]


@_tpl(rf"^{_MY}\s+{_CI(_REL)}\s+{_CI('works|now works|still works|is working')}\s+{_CI('at|for')}\s+{_ORG}")
def _rel_work(m):
    rel = _norm_rel(m.group("rel"))
    return [(f"{rel}'s employer", m.group("val"))]


# --------------------------------------------------------------------------- driver

_SENT_SPLIT = re.compile(r"(?<=[.!?…])[\"”’)]*\s+|\n+|(?<=[.!?])(?=[A-Z])")
_CLAUSE_SPLIT = re.compile(
    r"\s*[;:—–]\s*|\s+-\s+|\s*,?\s+\b(?:and|but|so|because|although|though|plus|while|since|also|"
    r"whereas|cause|cos)\s+(?=(?:i|i'm|i’m|i've|we|my|our)\b)|,\s+(?=(?:i|i'm|i’m|i've|we|they|"
    r"he|she|it|it's|you|there|that|which|who|so|and|but)\b)",
    re.IGNORECASE,
)
_QUESTION_START = re.compile(rf"^(?:{QUESTION_WORDS})\b", re.IGNORECASE)


def _clauses(text: str):
    for sent in _SENT_SPLIT.split(text.strip()):
        sent = sent.strip()
        if not sent:
            continue
        is_question = sent.rstrip(" \"'”)").endswith("?")
        if contains_secret(sent):
            continue
        for clause in _CLAUSE_SPLIT.split(sent):
            clause = clause.strip(" \t\"'“”()[]*_~")
            if clause:
                yield clause, is_question


def _strip_filler(clause: str) -> str:
    prev = None
    while prev != clause:
        prev = clause
        clause = _FILLER.sub("", clause).strip()
        # a short leading time/place adverbial: "In 2019, I moved ..." / "Last week, my ..."
        m = re.match(r"^([\w'’ ]{1,30}),\s+(?=(?i:i|i'm|i’m|we|my|our)\b)", clause)
        if (m and len(m.group(1).split()) <= 4 and not re.match(r"^[A-Z][a-z]+$", m.group(1))
                and not re.match(r"(?i)(?:i|i'm|i’m|we|my|our|you|he|she|they|it)\b", m.group(1))):
            clause = clause[m.end():]
    return clause


_CONTRACTIONS = [
    (re.compile(r"\b(I|i)['’]m\b"), "I am"),
    (re.compile(r"\b(I|i)['’]ve\b"), "I have"),
    (re.compile(r"\b([Ww]e)['’]re\b"), r"\1 are"),
    (re.compile(r"\b([Ww]e)['’]ve\b"), r"\1 have"),
    (re.compile(r"^[Ii]m\b"), "I am"),
    (re.compile(r"’"), "'"),
]


def _expand(s: str) -> str:
    for rx, rep in _CONTRACTIONS:
        s = rx.sub(rep, s)
    return s


def extract_rule_facts(text: str) -> list[tuple[str, str, bool]]:
    """(attribute, value, update) for each fact the templates find in one user turn."""
    out: list[tuple[str, str, bool]] = []
    seen: set[tuple[str, str]] = set()
    for clause, is_question in _clauses(text):
        if is_question:
            continue
        body = _expand(_strip_filler(clause)).rstrip(" .!…")
        if not body or _QUESTION_START.match(body):
            continue
        if _HEDGE.search(body):
            continue
        update = bool(_UPDATE.search(body))
        for rx, handler in _T:
            m = rx.search(body)
            if not m:
                continue
            pairs = handler(m)
            if not pairs:
                continue
            # the filters look at the statement itself (up to the value), not at what follows:
            # "I'm 72 years old and not great with computers" states the age.
            last_value = _clean_value(pairs[-1][1])
            start = m.start("val") if "val" in rx.groupindex and m.start("val") >= 0 else m.end()
            tail = body[start:]
            pos = tail.find(last_value) if last_value else -1
            region = body[: start + (pos + len(last_value) if pos >= 0 else len(tail))]
            if _HYPOTHETICAL.search(region) or _NEGATION.search(region) or _REPORTED.search(region):
                break
            for attribute, raw in pairs:
                value = _clean_value(raw) if not attribute.endswith("'s name") else raw.strip()
                if not _ok_value(value) or contains_secret(value):
                    continue
                key = (attribute_key(attribute), value.casefold())
                if key not in seen:
                    seen.add(key)
                    out.append((attribute_key(attribute), value, update))
            break  # first template that yields wins for this clause
    return out
