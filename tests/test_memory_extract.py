"""Extraction around the model: whose words reach it, and which of its values survive grounding.

The extractor here is a fake that writes given lines, so these tests check the rules that hold
whatever a model says (tests/test_extractor_model.py runs the real one)."""

from __future__ import annotations

import pytest

from memory.extract import TurnInput, extract, parse_lines
from memory.voice import PASTED, QUOTED, own_words, speaks_of_self, statements
from tests.fakes import FakeExtractor


def facts(text, lines, context=()):
    """The facts the fake's `lines` (for the user's own words of `text`) turn into."""
    own = " ".join(statements(text).split())  # one line, as the model's prompt shows it
    [found] = extract(FakeExtractor({own: lines}), [TurnInput(text, tuple(context))])
    return [(f.attribute, f.value) for f in found]


@pytest.mark.parametrize("text", [
    "can you summarise this email: Hi, my name is Daniel Kraus, I work at Brightline Logistics.",
    "ok so here it is\nFrom: anna@example.com\nSubject: hi\nI live in Rome and I'm a nurse",
    "can you shorten this\n\nHi team, I am Daniel and I manage the Brightline account since 2019. I live in Hamburg.",
    "fix this:\n```\n# I am Bob, I live in Rome\nname = 'Bob'\n```",
    "> I live in Rome\n> and I'm a nurse",
    "---------- Forwarded message ----------\nI'm Daniel and I live in Hamburg",
    # natural dev2 (tuned on): paragraphs of someone else's text, pointed at, asked about or opening like a letter
    "saw this on the forum, real or fake?\n\nhey all, I'm Daniel, 34, I live in Rome and I fix vintage bikes for a living",
    "my cousin texted again, see\n\nHello, it's Daniel here. I moved to Hamburg in May and I'm loving it honestly.",
    "Hi there, I'm Daniel Kraus and I work from Hamburg, I've managed the account since 2019.\n\nhow do i reply to this",
    "ok so\n\nDear Sir, I am Daniel and I live in Rome. I would like to apply for the post of driver.",
])
def test_pasted_text_never_reaches_the_extractor(text):
    own = statements(text)
    assert "Daniel" not in own and "Rome" not in own and "Hamburg" not in own and "Bob" not in own
    assert facts(text, "name: Daniel Kraus\nhome city: Rome\nhome city: Hamburg\nname: Bob") == []


@pytest.mark.parametrize("text", [
    'my boss literally said "I am moving to Berlin next year" lol',
    "my flatmate announced 'I'm quitting, I'm moving to Berlin, I mean it' again. classic",
    "and my dad goes ‘I’m retiring to Berlin’ every christmas",
    'he texted me:\n"I live in Berlin now, come visit"',
    # natural dev2 (tuned on): words reported without quotation marks
    "my neighbour goes, i'm moving to Berlin so you can have my plants. like ok thanks",
    "then this guy at the bar goes I live in Berlin I know all the spots and I just nodded",
    # natural dev3 (tuned on): a few words between the verb of saying and the comma
    "Our chairman said on Sunday at the dinner, I live in Berlin now, so no excuses for any of you.",
    "she texted me last night, im moving to Berlin for good",
])
def test_quotes_of_others_are_replaced(text):
    assert QUOTED in own_words(text) or "[pasted text]" in own_words(text)
    assert "Berlin" not in statements(text)
    assert facts(text, "home city: Berlin") == []


def test_the_users_own_saying_is_not_a_quote():
    assert statements("i said at dinner, i live in Berlin now") == "i said at dinner, i live in Berlin now"


def test_a_quoted_title_stays_the_users_words():
    assert statements('my favourite band is "The Midnight Owls" btw') == 'my favourite band is "The Midnight Owls" btw'
    assert statements("I'm from Oslo, how about you?") == "I'm from Oslo"


def test_questions_and_secrets_are_not_statements():
    assert statements("should i become a nurse? i work at a bakery rn") == "i work at a bakery rn"
    assert statements("my pin is 4321. i live in oslo") == "i live in oslo"
    assert facts("my wifi password is hunter22", "wifi password: hunter22") == []


def test_a_value_the_user_never_said_is_dropped():
    assert facts("ugh welding all day again, my back hurts", "job title: welder") == [("job title", "welder")]
    assert facts("night shift again at the ER", "job title: nurse") == []


def test_a_value_the_user_negates_is_dropped():
    assert facts("i'm not vegan anymore, haven't been for years", "diet: vegan") == []
    assert facts("i don't own a car, i bike everywhere", "car: car\nvehicle: bike") == [("vehicle", "bike")]


def test_assistant_words_count_only_when_answered_or_confirmed():
    statement = [("assistant", "As a teacher in Denver, you must love the summer break.")]
    assert facts("right, i need dinner ideas for 4 people", "job title: teacher", statement) == []
    who = [("assistant", "Added! Who's Rufus, by the way?")]
    assert facts("my cat lol, he's 4", "cat's name: Rufus\ncat's age: 4", who) == [("cat's name", "Rufus"), ("cat's age", "4")]
    claim = [("assistant", "As a teacher in Denver, you must love the summer break.")]
    assert facts("anyway what should i cook tonight", "job title: teacher\nhome city: Denver", claim) == []
    guess = [("assistant", "So you're a teacher, right?")]
    assert facts("yep, 5th grade", "job title: teacher", guess) == [("job title", "teacher")]


def test_lines_give_subject_episodic_and_update():
    text = "my sister astrid just moved to oslo and i ran my first half marathon"
    own = statements(text)
    [found] = extract(FakeExtractor({own: "sister's name: Astrid\nsister's city: Oslo (new)\n~race: half marathon"}),
                      [TurnInput(text)])
    by = {f.attribute: f for f in found}
    assert by["sister's home city"].subject == "sister" and by["sister's home city"].update
    assert by["sister's home city"].text == "My sister lives in Oslo."
    assert by["race"].episodic and not by["sister's name"].episodic


def test_parse_ignores_junk_none_and_lines_without_an_attribute():
    assert parse_lines(" none\n\n") == []
    assert parse_lines("job title: nurse\nthis is not a line\n- hobby: knitting\n~ : Rome\nmy: Rome") == [
        ("job title", "nurse", False, False), ("hobby", "knitting", False, False)]


def test_a_completion_cut_by_the_token_limit_loses_its_unfinished_line():
    from memory.batched import _whole_lines

    assert _whole_lines(" job title: nurse\nemployer: Bright") == " job title: nurse"
    assert _whole_lines(" employer: Bright") == ""


def test_prefilter_skips_short_replies_and_turns_with_nothing_of_their_own():
    fake = FakeExtractor()
    extract(fake, [TurnInput("lol"), TurnInput("ok good, ty!!"), TurnInput("what's the capital of peru?"),
                   TurnInput("can u summarise this: Hi, I'm Daniel and I work at Brightline."),
                   TurnInput("leeds, for now", (("assistant", "Where are you based?"),)),
                   TurnInput("sold the hilux n bought a subaru today"), TurnInput("i live in leeds")])
    assert fake.seen == ["leeds, for now", "sold the hilux n bought a subaru today", "i live in leeds"]
    assert not speaks_of_self(statements(f"summarise: {PASTED}"))


@pytest.mark.parametrize("text", ["Hey Evan! Guess what, I adopted a cat", "thanks so much, Evan!",
                                  "Evan, you won't believe my week", "Hi Evan, it's been ages. I'm good"])
def test_a_name_the_user_addresses_is_not_their_name(text):
    assert facts(text, "name: Evan") == []


@pytest.mark.parametrize("text", ["Evan says it's fine, he checks everything", "I'm sending it to Evan now",
                                  "my supervisor, Dr. Evan Lund, wrote hers in third person",
                                  "Evan will want quantities, ideally to the gram",
                                  "She plays the cello. Her name's Evan, if that makes you feel invested."])
def test_a_name_said_without_a_self_naming_cue_is_not_the_users(text):
    assert facts(text, "name: Evan") == []


@pytest.mark.parametrize("text", ["Hi, I'm Evan", "hey! my name is Evan, nice to meet you",
                                  "Evan here, long time no see", "hey Maria, it's Evan", "yeah sign it evan, nights",
                                  "the booking is under my name, Evan", "Evan the choir star, that's me tonight",
                                  "and sign only Evan, no surname", "the salesman calls me Evan anyway"])
def test_a_name_the_user_says_of_themselves_is_kept(text):
    assert [(a, v.casefold()) for a, v in facts(text, "name: Evan")] == [("name", "evan")]


def test_a_name_that_answers_a_question_about_it_is_kept():
    asked = (("assistant", "Sure! What name should I put at the bottom?"),)
    assert facts("evan. is that boring lol", "name: evan", asked) == [("name", "evan")]
    assert facts("evan. is that boring lol", "name: evan", (("assistant", "Who should I send it to?"),)) == []


@pytest.mark.parametrize("text", ["if I ever get a cat I'd call it Darwin", "If I had money I would drive to Vienna",
                                  "one day I want to open a pastelaria here",
                                  "Dream question: if I ever get to stop working, I'd love a couple of goats",
                                  "tbh thinking abt applying for a postdoc in bergen", "planning to move to Leeds in May",
                                  "considering getting a puppy lol", "hoping to switch to nights next year",
                                  # natural dev2 (tuned on): imagined or planned, said as if it were so
                                  "in my head i already live in a lighthouse", "moving abroad, that's the plan",
                                  "big plans: learning the harp", "im gonna be a pilot, trust",
                                  "the transfer is basically sorted, only the paperwork left",
                                  "starting next month at the new gym",
                                  # natural dev3 (tuned on): a move not yet made, a start to come, a wish, a life later
                                  "me and my sister are basically moving to york, like its decided",
                                  "the gluten free thing go start after exams", "since I was a girl I wanted to fly planes",
                                  "in spirit I am already a pilot", "in three years we live in York, this is decided",
                                  "I'm practically a swimmer now. Well, from Monday, when the class starts!"])
def test_hypotheticals_are_not_statements(text):
    assert statements(text) == ""


@pytest.mark.parametrize("text", ["if im not at work im at the gym", "I'd been a nurse for 10 years",
                                  "I'll ask round the crown if anyone's done it", "I would love some help, I'm a welder",
                                  "I've been thinking about my dog Rex a lot", "I told him I'm a nurse and he backed off",
                                  "my mum says im the best cook in the family",
                                  "i work from monday to friday at the bakery", "my son's birthday is in three weeks",
                                  "I moved to York two years ago"])
def test_conditions_and_requests_are_still_statements(text):
    assert statements(text) == text


def test_a_paragraph_of_the_users_own_after_a_greeting_stays():
    assert "nurse" in statements("ugh long day.\n\nanyway i'm a nurse and i love it, nights all week")


def test_a_value_that_only_echoes_its_attribute_is_dropped():
    text = "my cat pistachio just knocked my laptop off the desk, she's a tabby cat"
    assert facts(text, "cat's breed: cat\ncat's name: pistachio\ncat's breed: tabby cat") == [
        ("cat's name", "pistachio"), ("cat's breed", "tabby cat")]


@pytest.mark.parametrize("text, lines", [
    ("Wow, Caroline, that's so nice! I love painting too", "likes: Caroline\nhobby: painting"),
    ("Hey Calvin! My band played the Roxy last night", "favorite band: Calvin\nhobby: band"),
    ("That's great, Evan! I'm still at the bakery", "workplace: the bakery\nfriend's name: Evan"),
    ("Calvin, you won't believe it, I adopted a cat", "cat's name: Calvin\npet: cat"),
])
def test_the_person_the_user_speaks_to_is_no_value(text, lines):
    """A name in the vocative is the addressee: in a conversation between two people each greets the other
    by name all the time, and the model writes that name as a band, a book, a pet."""
    assert all("Calvin" not in v and "Caroline" not in v and "Evan" not in v for _, v in facts(text, lines))
    assert facts(text, lines)  # the other fact stays


@pytest.mark.parametrize("text, lines, kept", [
    ("Morning. Pepper, my dog, woke me up at six again", "dog's name: Pepper", [("dog's name", "Pepper")]),
    ("I'm from Hull, England.", "hometown: England", [("hometown", "England")]),
    ("oh rufus. he knocked my coffee over again, bad dog", "dog's name: rufus", [("dog's name", "rufus")]),
])
def test_a_name_at_the_start_of_a_sentence_is_not_spoken_to(text, lines, kept):
    assert facts(text, lines) == kept


def test_the_lines_of_a_turn_are_its_sentences():
    """Chat turns end sentences with a line break more often than a full stop: each first-person line is
    read alone too ("like 60 euro max" ran into "im 16 …" and the model read a budget of 160)."""
    text = "like 60 euro max\nim 16 not a millionaire"
    fake = FakeExtractor({"like 60 euro max im 16 not a millionaire": "budget: 160 euro",
                          "im 16 not a millionaire": "age: 16"})
    [found] = extract(fake, [TurnInput(text)])
    assert fake.seen == ["like 60 euro max im 16 not a millionaire", "im 16 not a millionaire"]
    assert [(f.attribute, f.value) for f in found] == [("age", "16")]


@pytest.mark.parametrize("text, lines, kept", [
    ("ty. in other news femke sent pics, shes the only vet in cape town",
     "home city: cape town\nsister's job title: vet", [("sister's job title", "vet")]),
    ("theyre moving to leeds in june", "home city: leeds", []),
    ("sold the hilux n bought a subaru today", "car: subaru", [("car", "subaru")]),
    ("she says im the best welder on site", "job title: welder", [("job title", "welder")]),
])
def test_a_reading_about_someone_else_states_no_fact_of_the_users(text, lines, kept):
    """No first person, and a he, she or they doing the talking: the facts are theirs, not the user's.
    Without a pronoun the user may have dropped the "I"."""
    assert facts(text, lines) == kept


@pytest.mark.parametrize("text, lines, kept", [
    ("i'm on a late tomorrow and my gf's on nights all week cos she's a nurse, so it's just me and the cat",
     "job title: nurse", []),
    ("the boss is back, he is from Dundee and i'm knackered", "hometown: Dundee", []),
    ("my son's home, he's been taking the hilux out and he drives it better than me", "car: hilux",
     [("car", "hilux")]),
    ("she says i'm a nurse at heart", "job title: nurse", [("job title", "nurse")]),
    ("i'm a nurse and so is she", "job title: nurse", [("job title", "nurse")]),
])
def test_a_value_given_to_a_he_or_she_in_its_clause_is_not_the_users(text, lines, kept):
    """A turn in the first person can still hand a value to someone else in one clause ("cos she's a
    nurse"); the clause decides, and only when the value is what he or she *is*, not what they handle."""
    assert facts(text, lines) == kept


@pytest.mark.parametrize("text, lines, context, kept", [
    ("Margaret has had a rotten week with a cold", "dog's name: Margaret", (), []),
    ("Margaret has had a rotten week, my poor old dog", "dog's name: Margaret", (), [("dog's name", "Margaret")]),
    ("hubby callum says i'll cave by fri", "husband's name: callum", (), [("husband's name", "callum")]),
    ("fly fetched the yows back twice", "dog's name: fly", (("user", "need a letter about our sheepdog"),
                                                            ("assistant", "Of course.")), [("dog's name", "fly")]),
])
def test_a_name_belongs_to_a_relation_the_users_words_name(text, lines, context, kept):
    """A name with no word for whose it is could be anyone's (natural dev: "Margaret has had a rotten week" was
    read as the dog's name, the wife's being Margaret). The word may be everyday ("hubby") or earlier in the
    session, in the user's words."""
    assert facts(text, lines, context) == kept


def test_a_long_turn_is_read_whole_and_sentence_by_sentence():
    """Each first-person sentence of a turn is read alone too (the model misses facts deep in a long
    turn); the facts of all readings are joined, each once."""
    text = "She's wagging again. Con's my husband, I should say. Anyway, I sing in the choir."
    fake = FakeExtractor({statements(text): "dog's name: Bramble",
                          "Con's my husband, I should say.": "husband's name: Con",
                          "Anyway, I sing in the choir.": "hobby: choir\nhusband's name: Con"})
    [found] = extract(fake, [TurnInput(text)])
    assert fake.seen == [text, "Con's my husband, I should say.", "Anyway, I sing in the choir."]
    assert [(f.attribute, f.value) for f in found] == [("husband's name", "Con"), ("hobby", "choir")]
