"""The real extractor (embedded Gemma 3 270M + the shipped extraction adapter) through `Memory`.

Every trap is said in two sessions, so the two-session quorum alone cannot keep it out: what
keeps it out is the voice rules, the model and grounding. Each case was written for this test
(not taken from the benchmark sets), in the casual way people type."""

from __future__ import annotations

import pytest

from config import load_settings
from memory import Memory
from memory.extract import ADAPTER_PATH, get_extractor

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def extractor():
    """One loaded extraction model for the module (shared by every home)."""
    return get_extractor(load_settings(memory={"extractor": "model"}))


def detect(extractor, *sessions, context=None):
    """Import one user turn per session (with an optional assistant turn before it), detect, return facts."""
    turns = []
    for i, text in enumerate(sessions, 1):
        if context:
            turns.append({"session": f"s{i}", "role": "assistant", "content": context})
        turns.append({"session": f"s{i}", "role": "user", "content": text})
    with Memory(load_settings(), extractor=extractor) as mem:
        mem.add_turns(turns)
        mem.detect()
        return mem.facts()


def candidates(facts):
    return {(f.attribute, f.value.casefold()) for f in facts if f.status == "candidate"}


def test_the_shipped_adapter_is_for_the_embedded_base_model():
    from consolidation.adapter_file import read_adapter_header
    from config.models import default_model_path, model_sha256

    header = read_adapter_header(ADAPTER_PATH)
    assert header.base_sha256 == model_sha256(default_model_path(load_settings()))


@pytest.mark.xfail(strict=True, reason="known gap (issue 11): the model reads 'welding all day again' as a hobby, "
                   "and a hobby and a job title with one word stem are not merged")
def test_natural_statements_become_one_candidate(extractor):
    facts = detect(extractor, "ugh welding all day again, my back is killing me",
                   "first week as a welder at the shipyard is done!! my hands hurt")
    assert ("job title", "welder") in candidates(facts)


def test_reference_to_the_assistants_question_is_resolved(extractor):
    facts = detect(extractor, "my cat lol, he's 4", "my cat! he's the orange one", context="Who's Rufus?")
    assert ("cat's name", "rufus") in candidates(facts)


def test_pasted_email_is_never_the_users(extractor):
    email = ("can you make this reply shorter:\n\nHi Sam, my name is Daniel Kraus and I work at Brightline "
             "Logistics in Hamburg. I'm a vegan and I live in Altona.\n\nBest, Daniel")
    facts = detect(extractor, email, email.replace("shorter", "more polite"))
    assert not candidates(facts)


def test_quoted_words_of_others(extractor):
    facts = detect(extractor, 'my boss literally said "I\'m moving to Berlin next year" at standup lol',
                   'still thinking about my boss saying "I\'m moving to Berlin" out of nowhere')
    assert not any(v == "berlin" for _, v in candidates(facts))


def test_text_pasted_without_an_introduction_is_never_the_users(extractor):
    """A paragraph pointed at ("saw this, legit?") or asked about after it ("what do i say")."""
    post = "hey all, im marco, 31, from genoa, i teach surfing and i have two huskies. dm me"
    facts = detect(extractor, f"saw this on the forum, legit or scam??\n\n{post}", f"{post}\n\nwhat do i say lol")
    assert not [v for _, v in candidates(facts) if v in {"marco", "genoa", "surfing instructor", "husky", "huskies"}]


def test_words_reported_without_quotation_marks(extractor):
    facts = detect(extractor, "my new neighbour goes, i'm a vet so i know dogs. ok sure",
                   "the neighbour was at it again, he goes, i'm a vet, your dog is fine")
    assert ("job title", "vet") not in candidates(facts)


def test_plans_said_as_if_done(extractor):
    facts = detect(extractor, "in my head i already live in galway, little house by the sea",
                   "galway is basically decided, only the job offer is missing")
    assert ("home city", "galway") not in candidates(facts)


def test_a_third_partys_city_is_not_the_users(extractor):
    facts = detect(extractor, "my sister lives in Oslo, she loves it there", "called my sister in oslo today, she's good")
    assert ("home city", "oslo") not in candidates(facts)


def test_negations(extractor):
    facts = detect(extractor, "i don't own a car, i bike everywhere", "never had a car honestly, the bike is enough")
    assert not [a for a, _ in candidates(facts) if a == "car"]
    facts = detect(extractor, "i'm not vegan anymore, haven't been for years", "not vegan these days, i eat everything")
    assert not [v for _, v in candidates(facts) if "vegan" in v]


def test_hypotheticals_and_plans(extractor):
    facts = detect(extractor, "if i ever get a dog it'd be a beagle for sure", "someday i'll get a beagle, maybe when i have a garden")
    assert not [v for _, v in candidates(facts) if "beagle" in v]


def test_questions(extractor):
    facts = detect(extractor, "should i become a nurse? asking for real", "do you think i'd make a good nurse?")
    assert not [v for _, v in candidates(facts) if "nurse" in v]


def test_assistant_claims_the_user_does_not_confirm(extractor):
    """The claim is in a wh-question the model sees, so grounding alone cannot keep it out."""
    facts = detect(extractor, "haha i have no idea what you mean, i just need a quick dinner recipe for tonight",
                   "lol ok, anyway i need a quick dinner recipe for tonight please",
                   context="As a teacher in Denver, what are you doing over the summer break?")
    assert not [v for _, v in candidates(facts) if v in {"teacher", "denver"}]


def test_secrets_even_repeated(extractor):
    facts = detect(extractor, "remember my door code is 4471 and my wifi password is hunter22",
                   "again: door code 4471, wifi password hunter22")
    assert not facts
