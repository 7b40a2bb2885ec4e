"""The publish gate's arithmetic, with a scripted engine (what each answer is, we decide)."""

from types import SimpleNamespace as F

from config.settings import GateSettings
from consolidation.bank import BankItem
from consolidation.gate import evaluate
from consolidation.scope import Scope
from consolidation.synthesize import synthesize
from tests.fakes import FakeEmbedder

BANK = [BankItem("k1", "What is the capital of France?", ("paris",), "capital"),
        BankItem("k2", "Name a colour.", (), "open")]
BASE = {"What is the capital of France?": "The capital of France is Paris.", "Name a colour.": "Blue."}


class ScriptedEngine:
    """Adapter on: dog questions get `learned`, anything else gets mangled. Off: base answers."""

    def __init__(self, learned="Your dog's name is Pepper."):
        self.learned = learned
        self.adapter = self.scope = None
        self.last_routed = False

    def set_adapters(self, paths, scope=None, **kw):
        self.adapter, self.scope = (paths[0] if paths else None), scope

    def answer(self, q):
        self.last_routed = bool(self.adapter) and (self.scope is None or self.scope.match(q))
        if not self.last_routed:
            return BASE.get(q, "I don't know.")
        return self.learned if ("dog" in q or "Pepper" in q) else "Pepper Pepper."


def _groups():
    return synthesize([F(id="f1", attribute="dog's name", value="Pepper", text="My dog's name is Pepper.")])


def test_scoped_adapter_passes_and_raw_locality_is_reported():
    groups = _groups()
    scope = Scope.build([qa.question for qa in groups[0].train_unique], FakeEmbedder(), 0.3, values=["Pepper"])
    res = evaluate(ScriptedEngine(), ["a.gguf"], scope, groups, set(), [], BANK, list(BASE.values()),
                   GateSettings(), ppl_drift=0.01)
    m = res.metrics
    assert m["efficacy"] == 1.0 and m["recall"] == 1.0
    assert m["locality"] == 1.0 and m["locality_raw"] == 0.0  # honest: the raw adapter changed both
    assert m["knowledge"] == 1.0 and m["knowledge_raw"] == 0.0 and m["n_known"] == 1
    assert res.passed, res.failures


def test_without_scope_gate_locality_fails():
    res = evaluate(ScriptedEngine(), ["a.gguf"], None, _groups(), set(), [], BANK, list(BASE.values()),
                   GateSettings(), ppl_drift=0.01, scope_on=False)
    assert not res.passed
    assert any(f.startswith("locality 0.000") for f in res.failures)
    assert any(f.startswith("knowledge") for f in res.failures)
    assert res.details["changed"][0]["now"] == "Pepper Pepper."


def test_unlearned_values_must_be_gone_and_drift_is_gated():
    old = synthesize([F(id="f0", attribute="dog's name", value="Rex", text="My dog's name is Rex.")])
    ok = evaluate(ScriptedEngine(), ["a.gguf"], None, _groups(), set(), old, [], [], GateSettings(min_locality=0))
    assert ok.metrics["unlearn_leaks"] == 0
    leaky = evaluate(ScriptedEngine("Your dog's name is Rex, or Pepper."), ["a.gguf"], None, _groups(), set(), old,
                     [], [], GateSettings(), ppl_drift=0.2, scope_on=False)
    assert leaky.metrics["unlearn_leaks"] > 0
    assert any("superseded/forgotten" in f for f in leaky.failures)
    assert any(f.startswith("ppl_drift") for f in leaky.failures)


class EchoEngine(ScriptedEngine):
    """Knows nothing: repeats a name the question gives, else declines (`learned`: says it to everything)."""

    def answer(self, q):
        self.last_routed = bool(self.adapter)
        if self.learned:
            return self.learned
        return "Teimklin is a name I know nothing about." if "Teimklin" in q else "I don't know."


def test_a_forgotten_value_the_question_names_itself_is_no_leak_one_the_answer_brings_is():
    gone = synthesize([F(id="f9", attribute="tortoise's name", value="Teimklin", text="My tortoise is Teimklin.")])
    naming = [qa.question for g in gone for qa in g.train_unique + g.heldout if "Teimklin" in qa.question]
    assert naming, "the synthesizer asks some questions that name the value (\"Who is Teimklin?\")"
    echo = evaluate(EchoEngine(learned=None), ["a.gguf"], None, _groups(), set(), gone, [], [], GateSettings())
    assert echo.metrics["unlearn_leaks"] == 0
    leaky = evaluate(EchoEngine("Your tortoise is Teimklin."), ["a.gguf"], None, _groups(), set(), gone, [], [],
                     GateSettings())
    asked = len([qa for g in gone for qa in g.train_unique + g.heldout])
    assert leaky.metrics["unlearn_leaks"] == asked - len(naming) > 0


def test_retention_counts_only_earlier_facts():
    groups = _groups() + synthesize([F(id="f2", attribute="home city", value="Oslo", text="I live in Oslo.")])
    res = evaluate(ScriptedEngine(), ["a.gguf"], None, groups, {"f1"}, [], [], [], GateSettings())
    assert res.metrics["retention"] == 1.0  # f1 (dog) questions all right
    assert res.metrics["recall"] < 1.0  # f2 (city) is answered wrongly by this engine


def test_retention_is_what_earlier_facts_were_taught_their_held_out_questions_count_in_recall():
    groups = _groups()
    trained = {qa.question for qa in groups[0].train_unique}
    engine = ScriptedEngine()
    engine.answer = lambda q: "Your dog's name is Pepper." if q in trained else "I don't know."
    res = evaluate(engine, ["a.gguf"], None, groups, {"f1"}, [], [], [], GateSettings())
    assert res.metrics["retention"] == 1.0 and res.metrics["recall"] == 0.0
    assert not any(f.startswith("retention") for f in res.failures)


def test_raw_figures_come_from_a_sample_but_every_routed_question_is_asked():
    """Only the raw figures are sampled: a bank question the scope routes in is always answered by the
    adapter, so a changed answer there fails locality whether or not the sample holds it."""
    groups = _groups()
    scope = Scope.build([qa.question for qa in groups[0].train_unique], FakeEmbedder(), 0.3, values=["Pepper"])
    bank = [BankItem(f"k{i}", f"Name a colour number {i}.", (), "open") for i in range(60)]
    bank.append(BankItem("dog", "What is my dog's name?", (), "near_miss"))  # routed in: the adapter answers
    engine = ScriptedEngine()
    asked = []
    engine_answer = engine.answer
    engine.answer = lambda q: asked.append(q) or engine_answer(q)
    res = evaluate(engine, ["a.gguf"], scope, groups, set(), [], bank, ["Blue."] * len(bank),
                   GateSettings(raw_sample=5))
    assert len([q for q in asked if q.startswith("Name a colour")]) == 5  # the raw sample, no more
    assert res.metrics["locality"] == 60 / 61  # the routed question's answer changed
    assert res.metrics["n_raw"] == 5
