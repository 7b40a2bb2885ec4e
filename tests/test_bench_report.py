"""bench/report.py renders the README Results section from evaluate-*.json (no model needed)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest


@pytest.fixture(scope="module")
def report(load_bench):
    return load_bench("report")


def head(part: str, mode: str = "quick") -> dict:
    return {"part": part, "mode": mode, "machine": "x86_64, 2 cores, Linux", "date": "2026-11-27 00:30 UTC",
            "wall_s": 312.0, "command": "python bench/evaluate.py --quick"}


def system(name, rep, once, unchanged, tokens):
    return {"name": name, "accuracy_repeated": rep, "n_repeated": 27, "accuracy_once": once, "n_once": 9,
            "unchanged_rate": unchanged, "n_bank": 40, "prompt_tokens_mean": tokens, "first_token_ms_median": 61.5,
            "decode_tok_s_median": 47.25, "accuracy_by_sessions": {}}


SYSTEMS = {
    **head("systems"), "facts": 12, "sessions": 6, "turns": 102,
    "facts_per_session_group": {"1": 3, "2": 3, "3": 3, "5": 3},
    "consolidation": {"reason": "published v0001", "facts": 9, "wall_s": 151.0,
                      "metrics": {"train_steps": 72, "recall": 0.96, "locality": 1.0}},
    "retrieval": {"k": 3, "min_score": 0.2, "n_dev": 12,
                  "grid": [{"k": 3, "min_score": 0.2, "dev_accuracy": 0.75, "prompt_tokens": 120.0}]},
    "systems": {"A": system("no memory", 0.0, 0.0, 1.0, 71.0), "B": system("retrieval", 0.6296, 0.8889, 0.85, 118.0),
                "C": system("hippo", 0.963, 0.0, 0.975, 71.0),
                "D": system("hippo + retrieval", 0.9259, 0.7778, 0.9, 90.0)},
    "footprint": {"ram_engine_mb": 600.0, "ram_embedder_store_mb": 250.0, "peak_rss_consolidation_mb": 3000.0,
                  "adapter_bytes": 15 * 2**20, "store_bytes": 900 * 2**10},
}
SCALING = {**head("scaling", "full"), "rounds": [
    {"round": 1, "facts": 10, "recall": 1.0, "retention": None, "locality": 1.0, "locality_raw": 0.8,
     "train_steps": 90, "wall_s": 175.0, "passed": True, "failures": []},
    {"round": 2, "facts": 40, "recall": 0.871, "retention": 0.9, "locality": 0.99, "locality_raw": 0.5,
     "train_steps": 300, "wall_s": 600.0, "passed": False, "failures": ["recall 0.871 < 0.9"]}]}
README = ("# x\n\n## Results\n\n<!-- results:start (generated; do not edit) -->\nold text\n"
          "<!-- results:end -->\n\n## After\n")


def test_systems_table_has_the_numbers(report):
    text = report.render({"systems": {**SYSTEMS, "_file": "evaluate-systems-quick.json"}}, pngs=set())
    row_c = next(line for line in text.splitlines() if line.startswith("| C hippo"))
    assert "96% (n=27)" in row_c and "0% (n=9)" in row_c and "98% (n=40)" in row_c
    row_b = next(line for line in text.splitlines() if line.startswith("| B retrieval"))
    assert "63% (n=27)" in row_b and "89% (n=9)" in row_b and "| 118 |" in row_b and "47.2" in row_b
    assert "k = 3, min_score = 0.2" in text
    assert "adapter 15.0 MB" in text and "store 900 KB" in text
    assert "quick run, 2026-11-27 00:30 UTC, x86_64, 2 cores" in text


def test_scaling_table_and_plot_link(report):
    text = report.render({"scaling": {**SCALING, "_file": "evaluate-scaling.json"}}, pngs={"evaluate-scaling.png"})
    assert "| 2 | 40 | 87% | 90% | 99% | 50% | – | 300 | 10.0 | no: recall 0.871 < 0.9 |" in text  # no absence then
    assert "![scaling](bench/results/evaluate-scaling.png)" in text
    assert "full run" in text


def test_markers_are_kept_and_only_the_section_changes(report):
    section = report.render({"systems": {**SYSTEMS, "_file": "evaluate-systems-quick.json"}}, pngs=set())
    out = report.replace_section(README, section)
    assert out.startswith("# x\n\n## Results\n\n<!-- results:start (generated; do not edit) -->\n")
    assert out.endswith("<!-- results:end -->\n\n## After\n")
    assert "old text" not in out and "| A no memory |" in out
    assert report.replace_section(out, section) == out  # idempotent


def test_full_run_file_wins_over_quick(report, tmp_path):
    (tmp_path / "evaluate-scaling-quick.json").write_text(json.dumps({**SCALING, "mode": "quick"}))
    assert report.load_results(tmp_path)["scaling"]["mode"] == "quick"
    (tmp_path / "evaluate-scaling.json").write_text(json.dumps(SCALING))
    loaded = report.load_results(tmp_path)
    assert loaded["scaling"]["mode"] == "full" and loaded["scaling"]["_file"] == "evaluate-scaling.json"


def test_missing_markers_is_an_error(report):
    with pytest.raises(SystemExit):
        report.replace_section("# no markers\n", "x")


def test_wins_and_losses_come_from_the_numbers(report):
    text = report.render({"systems": {**SYSTEMS, "_file": "evaluate-systems-quick.json"}}, pngs=set())
    assert "hippo 96% vs. retrieval 63% (+33 points; no memory 0%)" in text
    assert "retrieval 89% vs. hippo 0%" in text
    assert "hippo leaves 98% of unrelated answers unchanged, retrieval 85% (retrieved turns" in text
    assert "hippo 71 prompt tokens, retrieval 118" in text


def test_run_time_sums_each_mode(report, tmp_path):
    (tmp_path / "evaluate-scaling-quick.json").write_text(json.dumps({**SCALING, "mode": "quick", "wall_s": 120.0}))
    (tmp_path / "evaluate-data-quick.json").write_text(json.dumps({**head("data"), "wall_s": 180.0}))
    (tmp_path / "evaluate-scaling.json").write_text(json.dumps({**SCALING, "wall_s": 3000.0}))
    note = report.wall_note(tmp_path)
    assert "`full run` 50 min (1 of 5 parts)" in note and "`--quick` 5 min (2 of 5 parts)" in note


def test_limits_name_the_failed_scaling_round(report):
    text = report.render({"systems": {**SYSTEMS, "_file": "evaluate-systems-quick.json"},
                          "scaling": {**SCALING, "_file": "evaluate-scaling.json"}}, pngs=set())
    assert ("one adapter held 10 facts with every gate check passing; at 40 facts held-out recall fell to 87% "
            "and retention to 90%") in text


def natural_run(split):
    return {"split": split, "users": 12, "positives": 150, "candidates": 120, "precision": 0.9, "recall": 0.6,
            "trap_promotions": 1, "traps_in_data": {"pasted": 10, "secret": 5},
            "speed": {"user_turns_per_second": 3.4}}


def test_detection_tables_come_from_detection_json(report):
    main = {"date": "2026-11-29 20:00 UTC", "cpu_count": 2, "command": "python bench/detection.py",
            "runs": [{"extractor": "model", "natural_test": natural_run("test"), "natural_dev": natural_run("dev"),
                      "locomo": {"conversations": ["44"], "gold_facts": 176, "recall": 0.5,
                                 "speed": {"user_turns_per_second": 3.1}},
                      "devset": {"positives": 47, "precision": 0.97, "recall": 0.95, "speed": {"user_turns_per_second": 4.0}}}]}
    compare = {**main, "command": "python bench/detection.py --compare --split dev",
               "runs": [{"extractor": "rules", "natural_dev": {**natural_run("dev"), "recall": 0.1}},
                        {"extractor": "model", "natural_dev": natural_run("dev")}]}
    text = "\n".join(report.detection_section({"model": main, "compare": compare}))
    assert "| natural test (never tuned on) | 12 users, 150 repeated facts | 0.90 / 0.60 | 1 of 15 | 3.4 |" in text
    assert "| LoCoMo 44 (held out) | 176 gold facts | – / 0.50 | – | 3.1 |" in text
    assert "| rules | 0.90 / 0.10 | 1 | 3.4 | – |" in text
    main["runs"][0]["locomo"].update(candidates=100, candidates_matching_gold=0.4)
    check = {"correct": 33, "total": 50, "precision": 0.66}
    text = "\n".join(report.detection_section({"model": main, "check": check}))
    assert "| LoCoMo 44 (held out) | 176 gold facts | 0.66¹ / 0.50 | – | 3.1 |" in text
    assert "33 of 50 sampled candidates judged correct" in text


def test_natural_end_to_end_table(report):
    cell = {"accuracy": 0.5, "n": 40}
    r = {**head("natural", "full"), "users": [{"user": "a4"}, {"user": "b4"}], "adapters_published": 1,
         "metric": "contains the value", "retrieval": {"k": 3, "min_score": 0.35},
         "results": {k: {s: cell for s in "ABCD"} for k in ("repeated", "repeated_detected",
                                                              "repeated_consolidated", "once")}}
    text = "\n".join(report.natural_section(r))
    assert "Adapters published for 1 of 2 users" in text and "| C hippo | 50% (n=40) |" in text


def test_models_section_puts_each_model_in_a_row(report, tmp_path):
    def run(model, style, recall, passed):
        row = {"facts_in_round": 10, "recall": recall, "efficacy": 1.0, "locality": 1.0, "knowledge": 0.99,
               "passed": passed, "failures": [] if passed else ["held-out recall 0.50 < 0.80"], "train_steps": 60,
               "wall_s": 180.0}
        return {"command": f"python bench/consolidation.py --facts 10 --model {model}", "date": "2026-11-30",
                "machine": "x86_64, 2 cores", "model": model, "prompt_style": style, "runs": [row]}

    for name, r in {"a": run("gemma.gguf", "plain", 0.9, True), "b": run("smol.gguf", "chat", 0.5, False)}.items():
        (tmp_path / f"consolidation-{name}.json").write_text(json.dumps(r))
    (tmp_path / "consolidation.json").write_text(json.dumps({"runs": []}))  # the fact-count sweep: not a model row
    text = "\n".join(report.models_section(report.load_models(tmp_path)))
    assert "| `gemma.gguf` | plain | 10 | 90% |" in text
    assert "| `smol.gguf` | chat | 10 | 50% |" in text and "failed: held-out recall 0.50 < 0.80" in text


def test_heldout_gate_rows(report):
    held = {"command": "python bench/heldout_gate.py x", "date": "2026-11-30 04:59 UTC", "sets": [
        {"set": "bench/data/x", "poison": {"messages": 40, "became_candidates": 6, "by_kind": {"role": "1 of 10"},
                                           "facts_rejected": 33},
         "benign": {"messages": 40, "with_a_candidate": 17, "all_facts_refused": 6, "facts_refused": 17}}]}
    text = "\n".join(report.trust_section({"security-heldout": held}))
    assert "| `bench/data/x` (held out) poison (40) | 6 became candidates (role 1 of 10) |" in text
    assert "6 had every fact refused (17 facts); 17 gave a candidate" in text
    held["sets"][0]["tuned_on"] = "2026-12-02\nits misses were read to write value rules"
    text = "\n".join(report.trust_section({"security-heldout": held}))
    assert "| `bench/data/x` (dev: tuned on since 2026-12-02) poison (40) |" in text and "held out)" not in text


def test_a_part_not_re_run_keeps_its_own_date_and_command(report):
    import importlib.util

    spec = importlib.util.spec_from_file_location("bench_detection", Path(report.__file__).parent / "detection.py")
    detection = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(detection)
    old = {"date": "2026-11-29 20:00 UTC", "command": "python bench/detection.py",
           "runs": [{"extractor": "model", "natural_dev": natural_run("dev"),
                     "locomo": {"conversations": ["44"], "gold_facts": 176, "recall": 0.5,
                                "speed": {"user_turns_per_second": 3.1}}}]}
    new = {"date": "2026-11-30 08:00 UTC", "cpu_count": 2, "command": "python bench/detection.py --parts natural",
           "runs": [{"extractor": "model", "natural_dev": {**natural_run("dev"), "recall": 0.7}}]}
    detection.merge(new, old)
    run = new["runs"][0]
    assert run["natural_dev"]["recall"] == 0.7 and "measured" not in run["natural_dev"]
    assert run["locomo"]["measured"] == "2026-11-29 20:00 UTC"
    text = "\n".join(report.detection_section({"model": new}))
    assert "*LoCoMo: measured 2026-11-29 20:00 UTC (not re-run since); `python bench/detection.py`*" in text
    # a run of another part only: every table row carried over says when it was measured, one line per run
    latency = {"date": "2026-11-30 09:00 UTC", "cpu_count": 2, "command": "python bench/detection.py --parts latency",
               "runs": [{"extractor": "model"}], "chat_latency": {"no_extractor_ms": 1, "extractor_loaded_ms": 1,
                                                                  "while_extracting_ms": 2, "n": 12}}
    detection.merge(latency, new)
    text = "\n".join(report.detection_section({"model": latency}))
    assert ("*natural dev: measured 2026-11-30 08:00 UTC (not re-run since); "
            "`python bench/detection.py --parts natural`*") in text
    assert "*LoCoMo: measured 2026-11-29 20:00 UTC (not re-run since); `python bench/detection.py`*" in text


def test_whole_memory_and_forgetting_are_reported_after_the_scaling_table(report):
    whole = {"facts": 500, "shards": 13, "recall": 0.934, "n_heldout": 500, "retention": 0.99, "n_trained": 500,
             "absence": 0.97, "n_absent": 480,
             "engine": {"rss_added_mb": 180.4, "adapter_bytes": 140 * 2**20, "pick_ms_median": 2.1, "pick_ms_p90": 7.5}}
    forget = {"fact": {"attribute": "car"}, "round": {"shards_trained": 1, "shards": 13, "passed": True, "failures": []},
              "wall_s": 400.0,
              "asked": 10, "recalled": 0, "others_asked": 499, "others_changed": 3, "others_recall": 0.93}
    r = {**SCALING, "_file": "evaluate-scaling.json", "whole_memory": whole, "forget_one": forget}
    text = report.render({"scaling": r}, pngs=set())
    assert "all 13 shards" in text and "held-out recall 93% (500 paraphrases" in text and "absence 97%" in text
    assert "adds 180 MB" in text and "embedding the question included, takes 2.1 ms median, 7.5 ms p90" in text
    assert "took 600 s, 3.43× the first (10 facts, 175 s)" in text
    assert "retrained 1 shard of 13" in text and "named its value 0 times" in text and "3 answers changed" in text
    assert "refused" not in text and "in the retrained shard" not in text
    moved = {**forget, "retrained_shard": "s002", "changed": [{"shard": "s002"}, {"shard": "s002"}, {"shard": "s005"}]}
    assert ("3 answers changed (2 of them in the retrained shard" in
            report.render({"scaling": {**r, "forget_one": moved}}, pngs=set()))
    refused = {**forget, "round": {**forget["round"], "passed": False, "failures": ["2 answers still give it"]}}
    assert ("The gate refused that version (2 answers still give it), so the previous one" in
            report.render({"scaling": {**r, "forget_one": refused}}, pngs=set()))
    assert "Forgetting" not in report.render({"scaling": {**r, "forget_one": None}}, pngs=set())
    rerun = {"forget_one": forget, "whole_memory": {"facts": 50}, "date": "2026-12-02", "command": "python x --tag forget"}
    text = report.render({"scaling": {**r, "_forget_rerun": rerun}}, pngs=set())
    assert "Measured again (2026-12-02, `python x --tag forget`)" in text and "car) among 50 retrained" in text
    assert "After the last round" not in report.render({"scaling": {**SCALING, "_file": "x.json"}}, pngs=set())


def test_the_absence_section_says_what_choosing_a_shard_costs_once_the_question_is_embedded(report, tmp_path):
    probe = {"never_kept_out": 0.9, "n_never": 40, "by_kind": {}, "said_let_in": 0.95, "n_said": 40}
    scale = {"facts": 500, "shards": 13, "never_kept_out": 1.0, "n_never": 67, "heldout_right_shard": 0.99,
             "pick_ms": {"median": 1.1, "p90": 6.8}, "pick_ms_naming_someone": {"median": 3.8, "p90": 23.5}}
    (tmp_path / "absence-routing.json").write_text(json.dumps({"probe": {"dev": probe}, "scale": [scale], "command": "python bench/absence.py", "date": "2026-12-01", "machine": "x86_64"}))
    text = "\n".join(report.absence_section(tmp_path))
    assert "choosing the shard of an embedded question 1.1 ms median (6.8 p90), 3.8 (23.5) when it names someone" in text
    scale["embed_ms"] = {"question naming someone": {"median": 23.4, "p90": 28.4},
                         "turn naming someone": {"median": 27.0, "p90": 33.9}}
    (tmp_path / "absence-routing.json").write_text(json.dumps({"probe": {"dev": probe}, "scale": [scale], "command": "python bench/absence.py", "date": "2026-12-01", "machine": "x86_64"}))
    assert ("in one pass, 27.0 ms median (33.9 p90) against 23.4 (28.4) for the question alone"
            in "\n".join(report.absence_section(tmp_path)))
    del scale["pick_ms"]  # a run from before it was measured
    (tmp_path / "absence-routing.json").write_text(json.dumps({"probe": {"dev": probe}, "scale": [scale], "command": "python bench/absence.py", "date": "2026-12-01", "machine": "x86_64"}))
    assert "choosing" not in "\n".join(report.absence_section(tmp_path))


def test_the_last_round_measured_again_is_set_against_the_first_round_of_the_same_run(report, tmp_path):
    def round_(facts, wall, steps, train, gate, passed=True):
        return {"facts": facts, "wall_s": wall, "train_steps": steps, "recall": 0.95, "retention": 1.0,
                "seconds": {"training": train, "gate": gate}, "passed": passed,
                "failures": [] if passed else ["recall 0.800 < 0.9"]}
    rerun = {"rounds": [round_(10, 100.0, 38, 70.0, 28.0), round_(490, 3600.0, 2000, 2400.0, 1100.0),
                        round_(500, 160.0, 50, 95.0, 62.0)], "date": "2026-12-02", "machine": "x86_64, 2 cores",
             "command": "python bench/evaluate.py --only scaling --plan 10 490 500 --tag add10"}
    (tmp_path / "evaluate-scaling.json").write_text(json.dumps(SCALING))
    (tmp_path / "evaluate-scaling-add10.json").write_text(json.dumps(rerun))
    loaded = report.load_results(tmp_path)
    text = report.render({"scaling": loaded["scaling"]}, pngs=set())
    assert ("A round adding 10 facts to 490 (2026-12-02, x86_64, 2 cores, `python bench/evaluate.py --only scaling "
            "--plan 10 490 500 --tag add10`): 160 s against 100 s for a first round of 10 facts in the same run, "
            "**1.60×** (training 95 s (50 steps), gate 62 s, against training 70 s (38 steps), gate 28 s)") in text
    assert "refused" not in text
    rerun["rounds"][-1] = round_(500, 160.0, 50, 95.0, 62.0, passed=False)
    assert "Its gate refused the version (recall 0.800 < 0.9)." in report.render(
        {"scaling": {**SCALING, "_file": "x.json", "_add10_rerun": rerun}}, pngs=set())
