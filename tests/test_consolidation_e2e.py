"""End to end on the real model: import → consolidate → recall by paraphrase, weights only.

Then forget one fact and update another ("I moved to Bergen") and consolidate again: the
forgotten and the superseded values must leave the weights, the new value must come out.
Shards of one fact each, so the second round must retrain only the updated fact's shard, drop
the forgotten fact's, carry the third, and still answer all of them. Then a new fact joins a
shard that kept its fact, which trains on from its adapter.
Real MiniLM, real llama.cpp, real LoRA training (a few minutes on 2 cores).
"""

import json

import pytest
from typer.testing import CliRunner

from agent.cli import app
from config import load_settings
from consolidation.bank import locality_bank

pytestmark = pytest.mark.slow
runner = CliRunner()
HELD_OUT = {  # phrasings the synthesizer keeps out of training
    "What do I call my dog?": "Pepper",
    "In which city do I live?": "Tromsø",
    "Who do I work for?": "Lumen Robotics",
}


def ask(*args) -> list[dict]:
    result = runner.invoke(app, ["ask", "--json", "--no-retrieval", *args])
    assert result.exit_code == 0, result.output
    return [json.loads(line) for line in result.stdout.splitlines()]


def consolidate() -> dict:
    result = runner.invoke(app, ["consolidate", "--now", "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_learn_recall_forget(tmp_path, monkeypatch):
    from pathlib import Path

    from consolidation.registry import Registry

    monkeypatch.setenv("AGENT_CONSOLIDATION__SHARD_SIZE", "1")
    data = Path(__file__).parent / "data" / "three_facts.jsonl"
    assert runner.invoke(app, ["import", str(data)]).exit_code == 0

    before = {d["question"]: d["answer"] for d in ask(*HELD_OUT)}
    report = consolidate()
    assert report["published"], report
    assert report["version"] == "v0001"
    m = report["metrics"]
    gate = load_settings().consolidation.gate
    assert m["recall"] >= gate.min_recall and m["efficacy"] >= gate.min_efficacy and m["locality"] >= gate.min_locality
    assert set(report["seconds"]) >= {"synthesis", "training", "gate", "export"}
    assert m["shards"] == m["shards_trained"] == 3

    after = {d["question"]: d for d in ask(*HELD_OUT)}
    for q, value in HELD_OUT.items():
        assert value.lower() in after[q]["answer"].lower(), (q, after[q])
        assert value.lower() not in before[q].lower()  # it came from the weights, not the base model
        assert after[q]["adapter"] == "v0001"

    assert m["n_absent"] >= 1 and m["absence"] >= gate.min_absence  # never-said questions are asked and gated
    for d in ask("What do I call my horse?", "Where does my sister work?"):  # the scope gate keeps them
        assert not any(v.lower() in d["answer"].lower() for v in HELD_OUT.values()), d  # from Pepper / Lumen

    unrelated = [b.question for b in locality_bank()[:25]]
    with_adapter = [d["answer"] for d in ask(*unrelated)]
    base = [json.loads(x)["answer"] for x in
            runner.invoke(app, ["ask", "--json", "--no-adapter", *unrelated]).stdout.splitlines()]
    assert with_adapter == base

    facts = json.loads(runner.invoke(app, ["facts", "--json", "--status", "consolidated"]).stdout)
    assert {f["value"] for f in facts} == set(HELD_OUT.values())

    # forgetting and updating: the next consolidation must take the old values out of the weights
    assert runner.invoke(app, ["forget", "Lumen Robotics"]).exit_code == 0
    assert runner.invoke(app, ["import", str(data.with_name("moved.jsonl"))]).exit_code == 0
    for path in (load_settings().home / "adapters" / "v0001").glob("s*/scope.json"):  # as saved before keys
        saved = json.loads(path.read_text())                                           # knew their fact
        path.write_text(json.dumps({"keys": saved["keys"], "values": saved["values"]}))
    report2 = consolidate()
    assert report2["published"] and report2["version"] == "v0002", report2
    assert report2["metrics"]["unlearn_leaks"] == 0 and len(report2["unlearned"]) == 2
    assert (report2["metrics"]["shards"], report2["metrics"]["shards_trained"]) == (2, 1)
    v1, v2 = Registry(load_settings().home).versions()
    [carried] = [s for s in v2.shards if s.trained == "v0001"]  # the dog's: neither forgotten nor updated
    [before] = [s for s in v1.shards if s.id == carried.id]
    assert carried.facts == before.facts and carried.gguf.stat().st_ino == before.gguf.stat().st_ino
    assert json.loads((carried.path / "scope.json").read_text())["attributes"]  # rebuilt when carried,
    assert "attributes" not in json.loads((before.path / "scope.json").read_text())  # the old version untouched
    answers = {d["question"]: d["answer"] for d in ask(*HELD_OUT)}
    assert "lumen" not in answers["Who do I work for?"].lower()
    assert "bergen" in answers["In which city do I live?"].lower()
    assert "troms" not in answers["In which city do I live?"].lower()
    assert "pepper" in answers["What do I call my dog?"].lower()
    # after that round the forgotten value is in no file, and no version that held it can come back
    from tests.test_security import files_containing

    home = load_settings().home
    assert files_containing(home, "Lumen") == files_containing(home, "lumen") == []
    r = runner.invoke(app, ["adapters", "rollback", "v0001"])
    assert r.exit_code == 1 and "forgotten" in r.output

    # a new fact joins a shard that keeps its facts: that shard trains on from its adapter
    monkeypatch.setenv("AGENT_CONSOLIDATION__SHARD_SIZE", "2")
    assert runner.invoke(app, ["import", str(data.with_name("new_cat.jsonl"))]).exit_code == 0
    report3 = consolidate()
    assert report3["published"] and report3["version"] == "v0003", report3
    assert (report3["metrics"]["shards_trained"], report3["metrics"]["shards_continued"]) == (1, 1)
    [grown] = Registry(load_settings().home).get("v0003").manifest["training"]
    assert grown["continued"] and grown["facts"] == 2
    answers = {d["question"]: d["answer"].lower() for d in ask("What name does my cat go by?", *HELD_OUT)}
    assert "mochi" in answers["What name does my cat go by?"]
    assert "bergen" in answers["In which city do I live?"] and "pepper" in answers["What do I call my dog?"]

    nothing = consolidate()
    assert not nothing["published"] and "nothing to do" in nothing["reason"]
