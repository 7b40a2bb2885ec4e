"""Ledger, store and repetition detection through the `Memory` facade (FakeEmbedder)."""

from __future__ import annotations

import pytest

from config import UserError, load_settings
from memory import Memory
from memory.ledger import SCHEMA_VERSION


def u(session, content, time=None):
    t = {"session": session, "role": "user", "content": content}
    if time:
        t["time"] = time
    return t


def a(session, content, time=None):
    t = u(session, content, time)
    t["role"] = "assistant"
    return t


@pytest.fixture
def mem():
    with Memory(load_settings()) as m:
        yield m


def by_value(mem, value):
    return [f for f in mem.facts() if f.value == value]


def test_candidate_needs_two_distinct_sessions(mem):
    mem.add_turns([u("s1", "My dog's name is Pepper."), u("s1", "Again: my dog's name is Pepper.")])
    mem.detect()
    [f] = mem.facts()
    assert f.status == "observed" and f.sessions == ["s1"] and len(f.turns) == 2
    mem.add_turns([u("s2", "my dog's name is Pepper, as I said")])
    rep = mem.detect()
    [f] = mem.facts()
    assert f.status == "candidate" and f.sessions == ["s1", "s2"]
    assert rep.promoted == [f.id]


def test_paraphrase_matches_same_fact(mem):
    mem.add_turns([u("s1", "my dog's name is Pepper"), u("s2", "Pepper, my dog, loves the beach.")])
    mem.detect()
    [f] = mem.facts()
    assert f.status == "candidate" and f.text == "My dog's name is Pepper."


def test_related_attribute_by_meaning(mem):
    mem.add_turns([u("s1", "My puppy Pepper chewed my shoe."), u("s2", "My dog's name is Pepper.")])
    mem.detect()
    [f] = mem.facts()
    assert f.status == "candidate" and len(f.sessions) == 2


def test_different_animals_with_same_name_are_different_facts(mem):
    mem.add_turns([u("s1", "My dog's name is Pepper."), u("s2", "My cat's name is Pepper.")])
    mem.detect()
    assert sorted(f.attribute for f in mem.facts()) == ["cat's name", "dog's name"]
    assert all(f.status == "observed" for f in mem.facts())


def test_assistant_turns_are_never_a_source(mem):
    mem.add_turns([a("s1", "You live in Oslo."), a("s2", "I live in Oslo."),
                   a("s3", "My dog's name is Rex.")])
    rep = mem.detect()
    assert mem.facts() == [] and rep.statements == 0


def test_secrets_are_stored_as_turns_but_never_facts(mem):
    mem.add_turns([u("s1", "My PIN is 4821."), u("s2", "My PIN is 4821 again.")])
    mem.detect()
    assert mem.facts() == []
    assert len(mem.turns()) == 2


def test_explicit_update_supersedes(mem):
    mem.add_turns([
        u("s1", "My office is in building 7.", "2024-01-01T10:00:00"),
        u("s2", "my office is in building 7, near the lab", "2024-01-08T10:00:00"),
    ])
    mem.detect()
    [old] = mem.facts("candidate")
    mem.add_turns([u("s3", "My office is now in building 12.", "2024-02-01T10:00:00")])
    rep = mem.detect()
    old = mem.get(old.id)
    [new] = by_value(mem, "building 12")
    assert old.status == "superseded" and old.superseded_by == new.id
    # explicit update of a candidate: the new value is a candidate at once
    assert new.status == "candidate" and new.promoted_by == "update"
    assert old.id in rep.superseded


def test_implicit_change_needs_its_own_sessions(mem):
    """Without update wording, one mention of another city does not overturn one said in two sessions;
    said in as many sessions, the newer value wins."""
    mem.add_turns([u("s1", "I live in Oslo.", "2024-01-01T10:00:00"),
                   u("s2", "I live in Oslo.", "2024-01-02T10:00:00"),
                   u("s3", "I live in Bergen.", "2024-02-01T10:00:00")])
    mem.detect()
    [oslo] = by_value(mem, "Oslo")
    [bergen] = by_value(mem, "Bergen")
    assert oslo.status == "candidate" and bergen.status == "observed"
    mem.add_turns([u("s4", "We live in Bergen.", "2024-03-01T10:00:00")])
    mem.detect()
    assert mem.get(bergen.id).status == "candidate"
    oslo = mem.get(oslo.id)
    assert oslo.status == "superseded" and oslo.superseded_by == bergen.id


def test_older_statement_imported_late_does_not_win(mem):
    mem.add_turns([u("s2", "I live in Bergen.", "2024-02-01T10:00:00"),
                   u("s3", "I live in Bergen.", "2024-02-03T10:00:00")])
    mem.detect()
    mem.add_turns([u("s1", "I live in Oslo.", "2024-01-01T10:00:00")])
    mem.detect()
    [oslo] = by_value(mem, "Oslo")
    assert oslo.status == "superseded"
    assert by_value(mem, "Bergen")[0].status == "candidate"


def test_one_mention_of_another_value_overturns_nothing(mem):
    """Extraction is noisy ("tutoring kids in Lagos" read as a home city): a value said once, without
    update wording, supersedes nothing, so the value it contradicts can still gather its sessions."""
    mem.add_turns([u("s1", "I live in Debrecen.", "2024-01-01T10:00:00"),
                   u("s2", "I live in Lagos.", "2024-01-05T10:00:00")])
    mem.detect()
    assert {f.value: f.status for f in mem.facts()} == {"Debrecen": "observed", "Lagos": "observed"}
    mem.add_turns([u("s3", "I live in Debrecen.", "2024-01-09T10:00:00")])
    mem.detect()
    assert {f.value: f.status for f in mem.facts()} == {"Debrecen": "candidate", "Lagos": "superseded"}


def test_multi_valued_attributes_do_not_supersede(mem):
    mem.add_turns([u("s1", "I'm allergic to peanuts."), u("s2", "I'm allergic to shellfish."),
                   u("s3", "I'm allergic to peanuts, sadly.")])
    mem.detect()
    st = {f.value: f.status for f in mem.facts()}
    assert st == {"peanuts": "candidate", "shellfish": "observed"}


def test_forget_hides_turns_and_stays_forgotten(mem):
    mem.add_turns([u("s1", "My dog's name is Pepper."), u("s2", "Pepper, my dog, is napping."),
                   u("s2", "The weather is nice today.")])
    mem.detect()
    assert any("Pepper" in h.text for h in mem.search("dog Pepper", k=3))
    f = mem.forget("My dog's name is Pepper")
    assert f.status == "forgotten"
    assert all("Pepper" not in h.text for h in mem.search("dog Pepper", k=3))
    mem.add_turns([u("s3", "my dog's name is Pepper!")])
    mem.detect()
    assert mem.get(f.id).status == "forgotten"
    assert all("Pepper" not in h.text for h in mem.search("dog Pepper", k=5))
    assert mem.rebuild_index() == 1  # only the weather turn is visible


def test_forget_by_id_and_unknown(mem):
    mem.add_turns([u("s1", "I live in Oslo.")])
    mem.detect()
    [f] = mem.facts()
    assert mem.forget(f.id).status == "forgotten"
    with pytest.raises(UserError, match="no fact"):
        mem.forget("my cat is called Zorro")


def test_ledger_statuses_and_unlearn_list(mem):
    mem.add_turns([u("s1", "I live in Oslo.", "2024-01-01T00:00:00"),
                   u("s2", "I live in Oslo.", "2024-01-02T00:00:00")])
    mem.detect()
    [f] = mem.facts("candidate")
    mem.set_status(f.id, "consolidated", note="trained")
    assert mem.facts(["consolidated"])[0].consolidated_at
    assert mem.to_unlearn() == []
    mem.add_turns([u("s3", "I moved to Bergen.", "2024-03-01T00:00:00")])
    mem.detect()
    [gone] = mem.to_unlearn()
    assert gone.id == f.id and gone.status == "superseded"
    mem.mark_unlearned([f.id])
    assert mem.to_unlearn() == []
    with pytest.raises(UserError):
        mem.set_status(f.id, "bogus")
    with pytest.raises(UserError):
        mem.set_status("nope", "candidate")
    with pytest.raises(UserError):
        mem.facts("bogus")
    assert mem.ledger.schema_version == SCHEMA_VERSION
    assert [h["to_status"] for h in mem.ledger.history(f.id)] == [
        "observed", "candidate", "consolidated", "superseded"]


def test_add_turns_all_or_nothing(mem):
    with pytest.raises(UserError, match="turn 2"):
        mem.add_turns([u("s1", "fine"), {"session": "s1", "role": "robot", "content": "x"}])
    assert mem.turns() == [] and mem.store.count() == 0


def test_duplicate_timed_turns_are_ignored(mem):
    t = u("s1", "I live in Oslo.", "2024-01-01T00:00:00")
    assert mem.add_turns([t]).added == 1
    rep = mem.add_turns([t])
    assert rep.added == 0 and rep.duplicates == 1


def test_search_and_rebuild_index(mem):
    mem.add_turns([u("s1", "I love hiking in the mountains."), a("s1", "Which mountains?"),
                   u("s2", "Sourdough baking is my new hobby.")])
    hits = mem.search("baking sourdough", k=1)
    assert hits[0].text.startswith("Sourdough") and hits[0].session == "s2"
    assert mem.rebuild_index() == 3
    assert mem.search("baking sourdough", k=1)[0].text.startswith("Sourdough")
    mem.store.delete([1])
    assert mem.reconcile() == (0, 1) and mem.store.count() == 3


def test_lock_in_same_process(mem):
    with pytest.raises(UserError, match=r"in use by process PID \d+"):
        Memory(load_settings())


def test_switching_embedder_reindexes_from_ledger():
    from chromadb.utils.embedding_functions import register_embedding_function

    from tests.fakes import FakeEmbedder

    @register_embedding_function
    class OtherFake(FakeEmbedder):
        @staticmethod
        def name() -> str:
            return "hippo-fake-other"

    with Memory(load_settings()) as m:
        m.add_turns([u("s1", "I bake sourdough on Sundays."), u("s1", "I live in Oslo.")])
    with Memory(load_settings(), embedder=OtherFake()) as m:
        assert m.store.count() == 2
        assert m.search("sourdough", 1)[0].text.startswith("I bake")


# ---- with a scripted extractor: what detection does with the lines a model writes ----------------

def scripted(script):
    from tests.fakes import FakeExtractor

    return Memory(load_settings(), extractor=FakeExtractor(script))


def test_one_fact_across_sessions_by_meaning():
    """"I'm a welder" / "my first week as a welder" / "welding all day again": one fact, 3 sessions."""
    script = {"i'm a welder": "job title: welder", "my first week as a welder, my hands hurt": "job title: a welder",
              "welding all day again, my back hurts": "job title: welding"}
    with scripted(script) as mem:
        mem.add_turns([u("s1", "i'm a welder"), u("s2", "my first week as a welder, my hands hurt"),
                       u("s3", "welding all day again, my back hurts")])
        mem.detect()
        [f] = mem.facts()
        assert (f.attribute, f.status, len(f.sessions)) == ("job title", "candidate", 3)
        assert f.text == "I work as a welder."


def test_update_supersedes_and_the_newer_value_wins():
    script = {"i live in leeds": "home city: Leeds", "back home in leeds": "home city: Leeds",
              "we finally moved to york!": "home city: York (new)"}
    with scripted(script) as mem:
        mem.add_turns([u("s1", "i live in leeds", "2026-01-01T10:00:00"), u("s2", "back home in leeds", "2026-01-05T10:00:00")])
        mem.detect()
        mem.set_status(by_value(mem, "Leeds")[0].id, "consolidated")
        mem.add_turns([u("s3", "we finally moved to york!", "2026-02-01T10:00:00")])
        mem.detect()
        assert by_value(mem, "Leeds")[0].status == "superseded"
        assert by_value(mem, "York")[0].status == "candidate"  # an explicit update of a consolidated fact


def test_a_statement_merged_into_a_fact_of_another_attribute_supersedes_only_that_attribute():
    """"employer: the hospital" joins the fact "workplace: the hospital" by meaning; it is an update of a
    workplace, so the employer said before stays (a3 of the natural dev set lost "home city: Galway" to
    "workplace: the hospital" this way)."""
    script = {"i work for acme": "employer: Acme", "night shift at the hospital again": "workplace: the hospital",
              "started at the hospital, finally": "employer: the hospital (new)"}
    with scripted(script) as mem:
        mem.add_turns([u("s1", "i work for acme", "2026-01-01T10:00:00"),
                       u("s2", "night shift at the hospital again", "2026-01-05T10:00:00"),
                       u("s3", "started at the hospital, finally", "2026-01-09T10:00:00")])
        mem.detect()
        assert {(f.attribute, f.value): f.status for f in mem.facts()} == {
            ("employer", "Acme"): "observed", ("workplace", "the hospital"): "candidate"}


def test_an_employer_named_as_a_workplace_replaces_the_employer():
    """natural dev2 f1: "I am freight forwarder at Marlin Logistics" (employer), later "on Monday I started at
    Kestrel Shipping" read as a workplace: the same one place, so Marlin is superseded."""
    script = {"i work for acme": "employer: Acme", "acme again, long day": "employer: Acme",
              "started at Kestrel Shipping on monday": "workplace: Kestrel Shipping (new)"}
    with scripted(script) as mem:
        mem.add_turns([u("s1", "i work for acme", "2026-01-01T10:00:00"),
                       u("s2", "acme again, long day", "2026-01-05T10:00:00")])
        mem.detect()
        mem.add_turns([u("s3", "started at Kestrel Shipping on monday", "2026-01-09T10:00:00")])
        mem.detect()
        assert {(f.attribute, f.value): f.status for f in mem.facts()} == {
            ("employer", "Acme"): "superseded", ("workplace", "Kestrel Shipping"): "candidate"}


def test_an_office_location_is_the_workplace_and_its_move_an_update():
    """The older dev set's office move: the model wrote "workplace: building 7" twice, then "office location:
    building 12 (new)". An office, an office location, a place of work: the one place the user works."""
    script = {"my office is in building 7": "workplace: building 7", "office in building 7 again": "workplace: building 7",
              "my office is now in building 12": "office location: building 12 (new)"}
    with scripted(script) as mem:
        mem.add_turns([u("s1", "my office is in building 7", "2026-01-01T10:00:00"),
                       u("s2", "office in building 7 again", "2026-01-05T10:00:00")])
        mem.detect()
        mem.add_turns([u("s3", "my office is now in building 12", "2026-01-09T10:00:00")])
        mem.detect()
        assert {(f.attribute, f.value): f.status for f in mem.facts()} == {
            ("workplace", "building 7"): "superseded", ("workplace", "building 12"): "candidate"}


def test_third_party_facts_are_theirs_and_episodes_are_never_candidates():
    script = {"my sister lives in oslo": "sister's home city: Oslo",
              "visiting my sister in oslo, ran a half marathon": "sister's home city: Oslo\n~race: half marathon",
              "i ran a half marathon again lol": "~race: half marathon"}
    with scripted(script) as mem:
        mem.add_turns([u("s1", "my sister lives in oslo"), u("s2", "visiting my sister in oslo, ran a half marathon"),
                       u("s3", "i ran a half marathon again lol")])
        mem.detect()
        sister = by_value(mem, "Oslo")
        assert [(f.subject, f.attribute, f.status) for f in sister] == [("sister", "sister's home city", "candidate")]
        [race] = by_value(mem, "half marathon")
        assert race.kind == "episodic" and race.status == "observed" and len(race.sessions) == 2
        assert not [f for f in mem.facts() if f.attribute == "home city"]


def test_the_daemon_way_extract_then_record_is_the_same_and_records_once():
    """`pending_turns` → extract (no lock) → `record`; recording a batch twice changes nothing."""
    from memory.extract import extract

    script = {"i'm a welder": "job title: welder"}
    with scripted(script) as mem:
        mem.add_turns([u("s1", "i'm a welder"), u("s2", "i'm a welder")])
        batch = mem.pending_turns()
        found = extract(mem.extractor, [p.turn for p in batch])
        first = mem.record(batch, found)
        again = mem.record(batch, found)
        [f] = mem.facts()
        assert f.status == "candidate" and len(f.turns) == 2
        assert first.turns_scanned == 2 and again.turns_scanned == 0 and mem.pending_turns() == []


def test_episodic_and_stable_statements_of_one_value_stay_apart():
    """A one-off ("ran a half marathon") never lends sessions to, or supersedes, a lasting fact."""
    script = {"i ran a half marathon on sunday": "~race: half marathon",
              "i run half marathons, it's my thing": "race: half marathon",
              "i ran another half marathon today": "~race: half marathon"}
    with scripted(script) as mem:
        mem.add_turns([u("s1", "i ran a half marathon on sunday"), u("s2", "i run half marathons, it's my thing"),
                       u("s3", "i ran another half marathon today")])
        mem.detect()
        by_kind = {f.kind: f for f in by_value(mem, "half marathon")}
        assert by_kind["stable"].status == "observed" and len(by_kind["stable"].sessions) == 1
        assert by_kind["episodic"].status == "observed" and len(by_kind["episodic"].sessions) == 2


def _old_ledger(path, version: int):
    """A ledger as version 1 (no facts.kind, no turns.vector), 2 (no turns.vector) or 3 (no
    fact_support.doubted) wrote it, holding a fact supported by a turn with a PIN in it."""
    import sqlite3

    from memory.ledger import _SCHEMA

    schema = _SCHEMA.replace("    doubted   INTEGER NOT NULL DEFAULT 0,   -- 1: only the learned check doubted the statement "
                             "(memory.detect)\n", "")
    if version < 3:
        schema = schema.replace("    vector      BLOB                        -- float32 embedding of `content` (NULL: not yet)\n", "")
        schema = schema.replace("    created_at  TEXT    NOT NULL,\n);", "    created_at  TEXT    NOT NULL\n);")
    if version == 1:
        schema = schema.replace("    kind            TEXT NOT NULL DEFAULT 'stable' CHECK (kind IN ('stable', 'episodic')),\n", "")
    old = sqlite3.connect(path)
    old.executescript(schema + f"PRAGMA user_version={version};")
    old.execute("INSERT INTO facts (id, text, subject, attribute, value, status, first_seen, last_seen, first_ts,"
                " last_ts, created_at, updated_at) VALUES ('f1', 'I live in Oslo.', 'user', 'home city', 'Oslo',"
                " 'candidate', 't', 't', 0, 0, 't', 't')")
    old.execute("INSERT INTO turns (session, role, content, time, ts, turn_index, created_at)"
                " VALUES ('s1', 'user', 'My bank PIN is 4321.', 't', 0, 0, 't')")
    old.execute("INSERT INTO fact_support (fact_id, turn_id, session, ts) VALUES ('f1', 1, 's1', 0)")
    old.commit()
    old.close()


@pytest.mark.parametrize("version", [1, 2, 3])
def test_an_old_ledger_is_migrated_and_its_secrets_redacted_on_disk(tmp_path, version):
    from memory.ledger import Ledger

    path = tmp_path / "ledger.sqlite"
    _old_ledger(path, version)
    assert b"4321" in path.read_bytes()
    ledger = Ledger(path)
    assert ledger.schema_version == SCHEMA_VERSION == 4 and ledger.migrated
    assert [(f.id, f.kind, f.sessions, f.doubted) for f in ledger.facts()] == [("f1", "stable", ["s1"], [])]
    assert [t.content for t in ledger.turns()] == ["My bank PIN is [redacted PIN]."]
    ledger.close()
    on_disk = b"".join(p.read_bytes() for p in tmp_path.iterdir() if p.is_file())
    assert b"4321" not in on_disk
    assert not Ledger(path).migrated  # once


def test_an_old_store_is_reindexed_redacted_at_open():
    from tests.fakes import FakeEmbedder

    settings = load_settings()
    settings.home.mkdir(parents=True)
    _old_ledger(settings.home / "ledger.sqlite", 2)
    with Memory(settings, embedder=FakeEmbedder()) as m:
        assert [h.text for h in m.search("bank PIN")] == ["My bank PIN is [redacted PIN]."]
        assert m.store.count() == 1


def test_a_name_said_again_in_another_session_counts():
    """The user says who Femke is once, then just uses her name: that is the fact coming up again.
    A name inside pasted text, or stated as someone else's name, does not count; nor does a mere mention of
    anything that is not a name."""
    script = {"my sister femke lives in cape town": "sister's name: Femke\nsister's home city: Cape Town",
              "my cousin is called femke too lol": "cousin's name: Femke"}
    with scripted(script) as mem:
        mem.add_turns([u("s1", "my sister femke lives in cape town"),
                       u("s2", "can you shorten this email:\nHi, Femke here, I work at the zoo in cape town"),
                       u("s3", "my cousin is called femke too lol")])
        mem.detect()
        assert all(f.status == "observed" for f in mem.facts())
        mem.add_turns([u("s4", "femke sent pics of a penguin she stitched up in cape town lol")])
        mem.detect()
        sister = next(f for f in by_value(mem, "Femke") if f.attribute == "sister's name")
        assert sister.status == "candidate" and sister.sessions == ["s1", "s4"]
        [city] = by_value(mem, "Cape Town")
        assert city.status == "observed" and city.sessions == ["s1"]


def test_a_name_mentioned_before_it_was_explained_counts_too():
    script = {"my dog biscuit is a kelpie": "dog's name: Biscuit"}
    with scripted(script) as mem:
        mem.add_turns([u("s1", "biscuit chewed my shoe again lol"), u("s2", "my dog biscuit is a kelpie")])
        mem.detect()
        [f] = by_value(mem, "Biscuit")
        assert f.status == "candidate" and f.sessions == ["s1", "s2"]


def test_a_proper_name_value_said_again_counts_a_common_word_does_not():
    """What the extractor wrote as a proper name ("Leeds") comes up again in the user's own words of another
    session: said again, as people do ("bought a car off a lot here in leeds"). A common word ("dog") said
    again is no support: the neighbour's dog is not the user's pet. Neither is a value the other turn states
    as someone else's fact, or a value that is also another fact's: whichever fact "mortimer" stands for,
    it is the cat's name, not something the user likes."""
    script = {"bin lorries at 7. leeds council hates me": "home city: Leeds",
              "my cat mortimer screams at doors": "likes: Mortimer\ncat's name: Mortimer",
              "walked the dog at 6": "pet: dog", "my sister lives in dublin": "sister's home city: Dublin",
              "i grew up in dublin": "hometown: Dublin"}
    with scripted(script) as mem:
        mem.add_turns([u("s1", "bin lorries at 7. leeds council hates me"), u("s1", "walked the dog at 6"),
                       u("s1", "i grew up in dublin"), u("s1", "my cat mortimer screams at doors"),
                       u("s2", "fed mortimer at 6, he's still screaming"),
                       u("s2", "bought a honda off a lot here in leeds"), u("s2", "the neighbour's dog barked all night"),
                       u("s2", "my sister lives in dublin")])
        mem.detect()
        [leeds] = by_value(mem, "Leeds")
        assert leeds.status == "candidate" and leeds.sessions == ["s1", "s2"]
        [dog] = by_value(mem, "dog")
        assert dog.status == "observed" and dog.sessions == ["s1"]
        assert {f.attribute: (f.status, f.sessions) for f in by_value(mem, "Mortimer")} == {
            "cat's name": ("candidate", ["s1", "s2"]), "likes": ("observed", ["s1"])}
        hometown = next(f for f in by_value(mem, "Dublin") if f.attribute == "hometown")
        assert hometown.status == "observed" and hometown.sessions == ["s1"]


def test_a_mention_after_an_article_or_in_the_wrong_case_names_nothing():
    """"my boyfriend is a dev there" names no roommate Dev (a car is named with an article: "the volvo"); "it
    stresses me out" names no IT: a value in capitals counts again only in capitals (poison_dev4: "IT" gathered
    30 sessions from every "it" of the set)."""
    script = {"my roommate dev is loud": "roommate's name: Dev", "i work in IT": "job title: IT",
              "my Volvo needs tyres": "car: Volvo"}
    with scripted(script) as mem:
        mem.add_turns([u("s1", "my roommate dev is loud"), u("s1", "i work in IT"), u("s1", "my Volvo needs tyres"),
                       u("s2", "my boyfriend is a dev there"), u("s2", "thanks, it stresses me out"),
                       u("s2", "the kid threw up in the volvo")])
        mem.detect()
        assert {f.value: (f.status, f.sessions) for f in mem.facts()} == {"Dev": ("observed", ["s1"]),
                                                                          "IT": ("observed", ["s1"]),
                                                                          "Volvo": ("candidate", ["s1", "s2"])}
        mem.add_turns([u("s3", "dev left his socks everywhere"), u("s3", "IT is chaos this week")])
        mem.detect()
        assert {f.value: (f.status, f.sessions) for f in mem.facts() if f.value != "Volvo"} == {
            "Dev": ("candidate", ["s1", "s3"]), "IT": ("candidate", ["s1", "s3"])}


def test_a_message_with_an_impossible_value_is_no_witness_for_the_rest():
    """"I'm 4,000 years young and I teach piano on weekends", said twice: the piano is refused with the age."""
    script = {"I'm 4,000 years young and I teach piano on weekends": "age: 4,000 years young\njob title: piano teacher",
              "we got a puppy and named him /usr/bin/python3, he lives in our treehouse":
                  "dog's name: /usr/bin/python3\nhome: a treehouse",
              "i was born in 1990 and i'm a nurse": "age: 1990\njob title: nurse",  # a misread birth year
              "pasta or pizza, every day, i'm from naples": "favorite food: pasta; pizza\nhometown: Naples",  # a misread list
              "4471 worked. 31 years old and i keep codes on my skin": "age: 4471\nage: 31"}  # a locker code misread
    with scripted(script) as mem:
        mem.add_turns([u(s, t) for t in script for s in ("s1", "s2")])
        report = mem.detect()
        status = {f.value: f.status for f in mem.facts()}
        assert status == {"4,000 years young": "rejected", "piano teacher": "rejected", "/usr/bin/python3": "rejected",
                          "a treehouse": "rejected", "1990": "rejected", "nurse": "candidate",
                          "pasta; pizza": "rejected", "Naples": "candidate", "4471": "rejected", "31": "candidate"}
        assert len(report.rejected) == 7
        [piano] = by_value(mem, "piano teacher")
        assert "says something impossible" in piano.note and "past any lifetime" in piano.note


def test_a_name_typed_in_lowercase_said_again_counts_a_workplace_common_noun_does_not():
    """People who type lowercase write their city lowercase, and the extractor copies them ("home city:
    tucson"): a value of an attribute that takes names is a name however it is typed, and said again in
    another session it counts. A workplace written without capitals ("the office", "school") is a kind of
    place, said by everyone: no support."""
    script = {"its already like 90 in tucson and its march": "home city: tucson",
              "another long day at the office": "workplace: the office"}
    with scripted(script) as mem:
        mem.add_turns([u("s1", "its already like 90 in tucson and its march"),
                       u("s1", "another long day at the office"),
                       u("s2", "whats the cheapest way to get to portland from tucson"),
                       u("s2", "the office printer ate my report")])
        mem.detect()
        [city] = by_value(mem, "tucson")
        assert city.status == "candidate" and city.sessions == ["s1", "s2"]
        [office] = by_value(mem, "the office")
        assert office.status == "observed" and office.sessions == ["s1"]


def test_a_proper_name_read_as_two_attributes_counts_again_for_the_one_that_takes_names():
    """The extractor read "cardiff" as a home city in one session and as a hobby in another: the user said
    Cardiff in both, and a city, not a hobby, is what a proper name is. Two attributes that both take
    names (home city, hometown) stay undecided: neither counts the other's session."""
    script = {"go home to cardiff next week": "home city: Cardiff", "cardiff again this weekend lol": "hobby: Cardiff",
              "grew up in hull": "hometown: Hull", "hull is grim in the rain": "home city: Hull"}
    with scripted(script) as mem:
        mem.add_turns([u("s1", "go home to cardiff next week"), u("s2", "cardiff again this weekend lol"),
                       u("s1", "grew up in hull"), u("s2", "hull is grim in the rain")])
        mem.detect()
        assert {f.attribute: (f.status, f.sessions) for f in by_value(mem, "Cardiff")} == {
            "home city": ("candidate", ["s1", "s2"]), "hobby": ("observed", ["s2"])}
        assert {f.attribute: (f.status, f.sessions) for f in by_value(mem, "Hull")} == {
            "hometown": ("observed", ["s1"]), "home city": ("observed", ["s2"])}


def test_a_pets_name_counts_again_where_the_extractor_misread_it_as_a_fact_of_the_users():
    """"frikandel ate my durum" read as the user's favourite food: the user's words still name the dog. When the
    value names someone else too (the cat and the hamster are both pickles), the misread mention is nobody's."""
    script = {"anyway frikandel (our dog) just ate my sock": "dog's name: Frikandel",
              "frikandel ate my durum leftovers": "favorite food: Frikandel",
              "my cat pickles is asleep": "cat's name: Pickles",
              "lol my hamster pickles escaped": "hamster's name: Pickles",
              "pickles ate my toast": "favorite food: Pickles"}
    with scripted(script) as mem:
        mem.add_turns([u("s1", "anyway frikandel (our dog) just ate my sock"), u("s3", "frikandel ate my durum leftovers"),
                       u("s1", "my cat pickles is asleep"), u("s2", "lol my hamster pickles escaped"),
                       u("s3", "pickles ate my toast")])
        mem.detect()
        assert {f.attribute: (f.status, f.sessions) for f in by_value(mem, "Frikandel")} == {
            "dog's name": ("candidate", ["s1", "s3"]), "favorite food": ("observed", ["s3"])}
        assert {f.attribute: (f.status, f.sessions) for f in by_value(mem, "Pickles")} == {
            "cat's name": ("observed", ["s1"]), "hamster's name": ("observed", ["s2"]),
            "favorite food": ("observed", ["s3"])}


def test_a_name_the_user_speaks_to_is_not_said_again():
    """The extractor once made the friend the user talks to a sibling ("sibling's name: James"); greeting him
    in every later session ("Hey James!") says nothing of a sibling."""
    script = {"my sibling james and i went hiking": "sibling's name: James"}
    with scripted(script) as mem:
        mem.add_turns([u("s1", "my sibling james and i went hiking"), u("s2", "Hey James! Long week here"),
                       u("s3", "Thanks, James!"), u("s4", "james is coming over later")])
        mem.detect()
        [james] = by_value(mem, "James")
        assert james.sessions == ["s1", "s4"]


def test_a_name_counts_again_where_the_extractor_misread_it_as_another_of_the_users_facts():
    """The user's name comes up again in a turn the extractor misread ("hair color: Zaria"): still the
    user's name said again. The same name given as someone else's (a cousin's) is no support."""
    script = {"im zaria btw": "name: Zaria", "zaria obi, sign it like that": "hair color: Zaria",
              "my cousin is called zaria too lol": "cousin's name: Zaria"}
    with scripted(script) as mem:
        mem.add_turns([u("s1", "im zaria btw"), u("s2", "my cousin is called zaria too lol")])
        mem.detect()
        name = next(f for f in by_value(mem, "Zaria") if f.attribute == "name")
        assert name.status == "observed"
        mem.add_turns([u("s3", "zaria obi, sign it like that")])
        mem.detect()
        assert mem.get(name.id).status == "candidate" and mem.get(name.id).sessions == ["s1", "s3"]
