"""Regenerate README.md's "Results" section from bench/results/evaluate-*.json and detection*.json.

    python bench/report.py            # rewrite the section between the results markers
    python bench/report.py --print    # print the section, leave README.md alone

For each part (systems, data, scaling, natural, locomo) the full run's file is used when present
(`evaluate-<part>.json`), else the quick run's (`evaluate-<part>-quick.json`); every table
says which, with the machine and the date. Only the text between `<!-- results:start ... -->`
and `<!-- results:end -->` is replaced; the marker lines themselves are kept as they are.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"
START = re.compile(r"^<!-- results:start.*-->\s*$", re.M)
END = "<!-- results:end -->"
PARTS = ["systems", "data", "scaling", "natural", "locomo"]
SYSTEMS = ["A", "B", "C", "D"]


# ------------------------------------------------------------------------------ formatting
def pct(x) -> str:
    return "–" if x is None else f"{100 * x:.0f}%"


def num(x, digits: int = 0) -> str:
    return "–" if x is None else f"{x:.{digits}f}"


def size(n) -> str:
    if not n:
        return "–"
    return f"{n / 2**20:.1f} MB" if n >= 2**20 else f"{n / 2**10:.0f} KB"


def table(head: list[str], rows: list[list[str]]) -> list[str]:
    return ["| " + " | ".join(head) + " |", "| " + " | ".join("---" for _ in head) + " |",
            *("| " + " | ".join(r) + " |" for r in rows)]


def provenance(r: dict) -> str:
    th = r.get("threads") or {}
    load = (f"; threads: llama.cpp {th['llama']}, torch {th['torch']}; 1-min load average at the end "
            f"{th['load_avg_at_end']:.1f}") if th else ""
    return (f"*{r['mode']} run, {r['date']}, {r['machine']}; wall time {r['wall_s'] / 60:.1f} min{load}; "
            f"`{r.get('command', 'python bench/evaluate.py').strip()}`*")


# ------------------------------------------------------------------------------ loading
def load_results(results_dir: Path = RESULTS) -> dict[str, dict]:
    """part -> result dict: the full run's file if present, else the quick run's (the scaling part also
    carries the `--tag forget` and `--tag add10` runs', under `_forget_rerun` and `_add10_rerun`)."""
    out = {}
    for part in PARTS:
        for name in (f"evaluate-{part}.json", f"evaluate-{part}-quick.json"):
            path = Path(results_dir) / name
            if path.exists():
                out[part] = {**json.loads(path.read_text()), "_file": name}
                break
    for tag in ("forget", "add10"):  # `--tag forget`: forgetting measured on its own; `--tag add10`: an added round
        rerun = Path(results_dir) / f"evaluate-scaling-{tag}.json"
        if "scaling" in out and rerun.exists():
            out["scaling"][f"_{tag}_rerun"] = json.loads(rerun.read_text())
    return out


# ------------------------------------------------------------------------------ sections
def latency_note(r: dict) -> str:
    n = r["systems"]["A"].get("n_latency")
    if n:
        return (f"First token (includes retrieval for B and D) and decode tok/s: medians of one pass over {n} held-out "
                "questions with A–D interleaved question by question and a cold KV cache, so machine load hits all "
                "systems alike.")
    return ("First token (includes retrieval for B and D) and decode tok/s: medians over all questions, systems run "
            "one after another (not interleaved: compare with care if the machine was busy).")


def systems_section(r: dict, rel: str) -> list[str]:
    fp = r["footprint"]
    disk = {"A": "–", "B": f"store {size(fp['store_bytes'])}", "C": f"adapter {size(fp['adapter_bytes'])}",
            "D": f"adapter {size(fp['adapter_bytes'])} + store {size(fp['store_bytes'])}"}
    with_embedder = fp["ram_engine_mb"] + fp["ram_embedder_store_mb"]  # C needs it too (scope gate)
    ram = {"A": fp["ram_engine_mb"], "B": with_embedder, "C": with_embedder, "D": with_embedder}
    rows = []
    for s in SYSTEMS:
        p = r["systems"][s]
        rows.append([f"{s} {p['name']}", f"{pct(p['accuracy_repeated'])} (n={p['n_repeated']})",
                     f"{pct(p['accuracy_once'])} (n={p['n_once']})", f"{pct(p['unchanged_rate'])} (n={p['n_bank']})",
                     num(p["prompt_tokens_mean"]), num(p["first_token_ms_median"]), num(p["decode_tok_s_median"], 1),
                     f"{ram[s]:.0f} MB", disk[s]])
    c = r["consolidation"]
    t = r["retrieval"]
    groups = ", ".join(f"{v} facts in {k} session{'s' if k != '1' else ''}"
                       for k, v in sorted(r["facts_per_session_group"].items(), key=lambda kv: int(kv[0])))
    lines = [
        "### Parametric memory vs. retrieval vs. no memory",
        "",
        f"One user, {r['facts']} persona facts stated across {r['sessions']} sessions ({r['turns']} turns; {groups}), "
        "built with the real pipeline: turns → Memory (Chroma + MiniLM) → detect → consolidate → publish. "
        "Accuracy is on held-out paraphrases only (never trained on); *repeated* = facts stated in ≥ 2 sessions "
        "(consolidated), *once* = stated in one session (not consolidated, by design). *Unchanged* = answers to "
        "unrelated bank prompts identical to the base model's. " + latency_note(r),
        "",
        *table(["system", "repeated facts", "facts said once", "unchanged (bank)", "prompt tokens",
                "first token (ms)", "decode tok/s", "RAM (process)", "disk"], rows),
        "",
        f"Consolidation: {c['reason']}; C/D evaluated with: **{c.get('adapter_evaluated', 'published')}** "
        f"({c['facts']} facts, {c['wall_s']:.0f} s, {c['metrics'].get('train_steps')} "
        f"training steps; gate recall {pct(c['metrics'].get('recall'))}, "
        f"locality {pct(c['metrics'].get('locality'))}). "
        f"Retrieval (B, D) tuned on a dev split ({t['n_dev']} training-template questions): "
        f"**k = {t['k']}, min_score = {t['min_score']}** (grid: "
        + ", ".join(f"k={g['k']}/{g['min_score']}: {pct(g['dev_accuracy'])}" for g in t["grid"]) + "). "
        f"RAM: engine alone {fp['ram_engine_mb']:.0f} MB, embedder + Chroma +{fp['ram_embedder_store_mb']:.0f} MB "
        f"(C needs the embedder for its scope gate); "
        f"peak during consolidation {fp['peak_rss_consolidation_mb']:.0f} MB.",
        "",
        provenance(r) + f" — [`{r['_file']}`]({rel}/{r['_file']})",
        "",
    ]
    return lines


def gate_cell(x: dict) -> str:
    """A row's "gate passed" cell: yes, or no with the failed checks."""
    if "passed" not in x:
        return "–"
    return "yes" if x["passed"] else "no: " + "; ".join(x.get("failures") or [])


def bank_n(rows: list[dict]) -> str:
    return str(rows[0].get("n_bank") or "the") if rows else "the"


def data_section(r: dict, rel: str, png: bool) -> list[str]:
    rows = [[str(x["examples_per_fact"]), pct(x["recall"]) + (f" (n={x['n_heldout']})" if x.get("n_heldout") else ""),
             pct(x["locality"]), pct(x["efficacy"]), str(x["train_steps"]), num(x["wall_s"]),
             gate_cell(x)]
            for x in r["examples_curve"]]
    n = r["examples_curve"][0].get("n_heldout") if r["examples_curve"] else None
    noise = f" With {n} held-out questions one answer moves recall by {100 / n:.1f} points." if n else ""
    lines = ["### How much data is needed?", "",
             f"(a) Held-out recall and locality vs. synthesized training examples per fact ({r['facts']} facts, "
             f"one consolidation each; locality on {bank_n(r['examples_curve'])} unrelated bank prompts).{noise}", "",
             *table(["examples per fact", "held-out recall", "locality", "efficacy (trained Qs)", "steps",
                     "wall (s)", "gate passed"], rows), ""]
    sc = r.get("sessions_curve")
    if sc:
        srows = [[str(x["sessions"]), str(x["n"]), ", ".join(f"{k} {v}" for k, v in (x.get("detection") or {}).items()),
                  pct(x["recall_hippo"]), pct(x["recall_retrieval"]), pct(x["recall_hippo_retrieval"])]
                 for x in sc["rows"]]
        lines += [f"(b) Held-out recall vs. the number of sessions a fact was stated in (min_sessions = "
                  f"{sc['min_sessions']}; locality of that adapter {pct(sc['locality'])}; from {sc['source']}):", "",
                  *table(["sessions", "questions", "detector status", "hippo (C)", "retrieval (B)",
                          "hippo + retrieval (D)"], srows), ""]
    if png:
        lines += [f"![data needed]({rel}/{r['_file'].replace('.json', '.png')})", ""]
    lines += [provenance(r), ""]
    return lines


def scaling_section(r: dict, rel: str, png: bool) -> list[str]:
    rows = [[str(x["round"]), str(x["facts"]), pct(x["recall"]), pct(x["retention"]), pct(x["locality"]),
             pct(x["locality_raw"]), pct(x.get("absence")), str(x["train_steps"]), f"{x['wall_s'] / 60:.1f}",
             gate_cell(x)] for x in r["rounds"]]
    partial = ""
    if r.get("complete") is False:
        partial = (f" **Partial run: {len(r['rounds'])} of the planned rounds "
                   f"({' → '.join(str(n) for n in r.get('planned', []))} facts) finished.**")
    lines = ["### Scaling", "",
             ("Cumulative rounds as the product runs them: facts in shards of "
              f"{r['shard_size']}, a round trains only the shards whose facts changed (one that only gained "
              "facts on from its adapter); held-out recall is on the trained shards' facts and a sample of the "
              "carried ones" if "shard_size" in r else
              "Cumulative rounds (each retrains one adapter for all facts so far: measured before memory shards)")
             + "; retention is "
             f"measured on the facts of earlier rounds; locality on {bank_n(r['rounds'])} unrelated bank prompts."
             + partial, "",
             *table(["round", "facts", "held-out recall", "retention", "locality", "locality (raw)", "absence",
                     "steps", "wall (min)", "gate passed"], rows), ""]
    lines += whole_memory_lines(r) + last_round_lines(r.get("_add10_rerun"))
    if png:
        lines += [f"![scaling]({rel}/{r['_file'].replace('.json', '.png')})", ""]
    return lines + [provenance(r), ""]


def whole_memory_lines(r: dict) -> list[str]:
    """After the last round (`--whole`): every fact asked, the engine with every shard, one fact forgotten."""
    w, f = r.get("whole_memory"), r.get("forget_one")
    if not w:
        return []
    e, first, last = w["engine"], r["rounds"][0], r["rounds"][-1]
    lines = [f"After the last round, every fact of the live version was asked with all {w['shards']} shards "
             f"loaded and the scope picking one per question: held-out recall {pct(w['recall'])} "
             f"({w['n_heldout']} paraphrases, one per fact), retention {pct(w['retention'])} ({w['n_trained']} trained "
             f"questions), absence {pct(w['absence'])} ({w['n_absent']} never-said questions). Loading every shard "
             f"adds {e['rss_added_mb']:.0f} MB to a fresh engine's RSS ({e['adapter_bytes'] / 2**20:.0f} MB of "
             f"adapter files); picking a shard, embedding the question included, takes {e['pick_ms_median']:.1f} ms "
             f"median, {e['pick_ms_p90']:.1f} ms p90 (a chat turn with retrieval on has embedded it already: what is "
             f"left is under *Absence* below). The last round ({last['facts'] - r['rounds'][-2]['facts'] if len(r['rounds']) > 1 else last['facts']} "
             f"new facts) took {last['wall_s']:.0f} s, {last['wall_s'] / first['wall_s']:.2f}× the first "
             f"({first['facts']} facts, {first['wall_s']:.0f} s).", ""]
    if f:
        lines += [forget_line(f, w["facts"]), ""]
    rerun = r.get("_forget_rerun")
    if rerun and rerun.get("forget_one"):
        lines += [f"Measured again ({rerun['date']}, `{rerun['command']}`) once the gate's leak check no longer "
                  "counted questions that name the value themselves (\"Who is Teimklin?\" is echoed by any model): "
                  + forget_line(rerun["forget_one"], rerun["whole_memory"]["facts"]), ""]
    return lines


def last_round_lines(r: dict | None) -> list[str]:
    """A `--plan 10 … N --tag add10` run: its last round (facts added) against its first, stage by stage."""
    if not r or len(r.get("rounds", [])) < 2:
        return []
    first, last = r["rounds"][0], r["rounds"][-1]
    added = last["facts"] - r["rounds"][-2]["facts"]

    def stages(x: dict) -> str:
        sec = x["seconds"]
        return f"training {sec['training']:.0f} s ({x['train_steps']} steps), gate {sec['gate']:.0f} s"

    verdict = "" if last["passed"] else f" Its gate refused the version ({'; '.join(last['failures'])})."
    return [f"A round adding {added} facts to {last['facts'] - added} ({r['date']}, {r['machine']}, "
            f"`{r['command']}`): {last['wall_s']:.0f} s against {first['wall_s']:.0f} s for a first round of "
            f"{first['facts']} facts in the same run, **{last['wall_s'] / first['wall_s']:.2f}×** ({stages(last)}, "
            f"against {stages(first)}); held-out recall {pct(last['recall'])}, retention "
            f"{pct(last['retention'])}.{verdict}", ""]


def forget_line(f: dict, facts: int) -> str:
    """`forget_one` of a scaling run (`--whole`): what retraining without one fact cost and changed."""
    fr = f["round"]
    verdict = ("" if fr["passed"] else f" The gate refused that version ({'; '.join(fr['failures'])}), so the "
               "previous one, which still holds the fact, stayed live and answered what follows.")
    return (f"Forgetting one fact ({f['fact']['attribute']}) among {facts} retrained "
            f"{fr['shards_trained']} shard of {fr['shards']} in {f['wall_s']:.0f} s.{verdict} Its "
            f"{f['asked']} questions then named its value {f['recalled']} times; of the other facts' "
            f"{f['others_asked']} held-out questions, {f['others_changed']} answers changed{_where_changed(f)} and "
            f"{pct(f['others_recall'])} were right.")


def _where_changed(f: dict) -> str:
    """How many of the changed answers belong to the shard retrained without the forgotten fact."""
    if not f.get("changed") or not f.get("retrained_shard"):
        return ""
    mates = sum(c["shard"] == f["retrained_shard"] for c in f["changed"])
    return f" ({mates} of them in the retrained shard, whose other facts were trained again from the base model)"


def _pick_ms(x: dict) -> str:
    """The scope's choice of shard once chat has embedded the turn's texts, and what embedding
    them in one pass costs beside the question alone (which retrieval embeds anyway)."""
    p, q, e = x.get("pick_ms"), x.get("pick_ms_naming_someone"), x.get("embed_ms") or {}
    if not p:
        return ""
    text = f", choosing the shard of an embedded question {p['median']:.1f} ms median ({p['p90']:.1f} p90)"
    text += f", {q['median']:.1f} ({q['p90']:.1f}) when it names someone" if q else ""
    alone, turn = e.get("question naming someone"), e.get("turn naming someone")
    if alone and turn:
        text += (f"; chat embeds such a question with itself made anyone in one pass, {turn['median']:.1f} ms "
                 f"median ({turn['p90']:.1f} p90) against {alone['median']:.1f} ({alone['p90']:.1f}) for the "
                 "question alone")
    return text


def absence_section(results_dir: Path) -> list[str]:
    """bench/absence.py: never-said questions kept from the adapters, said ones let in."""
    path = Path(results_dir) / "absence-routing.json"
    if not path.exists():
        return []
    a = json.loads(path.read_text())
    kinds = ["other_relation", "other_attribute_same_person", "other_favorite", "own_unsaid"]
    rows = [[split + (" (tuned on)" if split == "dev" else " (never tuned on)"),
             f"{pct(p['never_kept_out'])} of {p['n_never']}",
             *(pct(p["by_kind"][k]["kept_out"]) if k in p["by_kind"] else "–" for k in kinds),
             f"{pct(p['said_let_in'])} of {p['n_said']}"] for split, p in a["probe"].items()]
    scale = "; ".join(f"{x['facts']} facts ({x['shards']} shards): the gate's never-said questions kept out "
                      f"{pct(x['never_kept_out'])} of {x['n_never']}, held-out paraphrases to the right shard "
                      f"{pct(x['heldout_right_shard'])}" + _pick_ms(x) for x in a["scale"])
    return ["### Absence: questions about what was never said", "",
            "Asked about something the user never said (\"What's my horse called?\" next to a learned dog), an "
            "adapter answers with a learned value, so the scope gate keeps such questions for the base model. "
            "Probe users written by two other sessions that never read the routing code (40 each); "
            "*kept out* = sent to the base model, which knows no learned value; *said, let in* = questions about "
            "stated facts in fresh wording that reach the adapters.", "",
            *table(["probe split", "never said: kept out", "other person or animal", "other attribute, same one",
                    "other favourite", "own, never said", "said: let in"], rows), "",
            f"persona_large.json: {scale}.", "", f"`{a['command']}` ({a['date']}, {a['machine']}).", ""]


def locomo_section(r: dict) -> list[str]:
    res = r["results"]
    cats = sorted({c for s in SYSTEMS for c in res["all_sampled"].get(s, {})}, key=lambda c: (c == "1-4", c))
    rows = []
    for c in cats:
        cell = res["all_sampled"]["A"][c]
        row = [c, str(cell["n"])]
        for s in SYSTEMS:
            v = res["all_sampled"][s][c]
            row.append(f"trap {pct(v['trap_rate'])}" if "trap_rate" in v
                       else f"{pct(v['containment'])} / {num(v['f1'], 2)}")
        rows.append(row)
    convs = r["conversations"]
    facts = sum(c["cross_session_facts"] for c in convs)
    outcomes = [f"conversation {c['conversation']}: {c['consolidation']}" for c in convs
                if c.get("consolidation") and not c["consolidation"].startswith("nothing detected")]
    published = sum(1 for c in convs if c.get("adapter"))
    consolidations = f" ({published} published; {'; '.join(outcomes)})" if outcomes else ""
    rep = res.get("evidence_in_2+_sessions") or {}
    rep_line = ""
    if rep:
        rep_line = ("On the " + str(res["evidence_in_2+_sessions_n"]) + " items whose evidence spans ≥ 2 sessions "
                    "(categories 1–4, containment / F1): " + ", ".join(
                        f"{s} {pct(rep[s]['1-4']['containment'])} / {num(rep[s]['1-4']['f1'], 2)}" for s in SYSTEMS
                        if '1-4' in rep[s]) + ". ")
    return ["### LoCoMo", "",
            f"{len(convs)} conversation(s), speaker_a as the user, one session per LoCoMo session; {r['qa_items']} QA "
            f"items ({r['sampling']}). The detector found {facts} cross-session fact(s) in them "
            f"({'; '.join(f for c in convs for f in c['facts']) or 'none'}), "
            "so C/D differ from A/B only where an adapter "
            f"was published{consolidations}. {res.get('evidence_on_detected_fact_n', 0)} QA item(s) have evidence on a "
            "detected fact. "
            f"Metric: {r['metric']}. Cells: containment / token F1.", "",
            *table(["category", "n", *(f"{s} {n}" for s, n in zip(SYSTEMS, ["no memory", "retrieval", "hippo",
                                                                              "hippo + retrieval"]))], rows),
            "", rep_line + provenance(r), ""]


def natural_section(r: dict) -> list[str]:
    res = r["results"]
    names = {"A": "no memory", "B": "retrieval", "C": "hippo", "D": "hippo + retrieval"}
    cols = [("repeated", "repeated facts"), ("repeated_detected", "repeated and detected"),
            ("repeated_consolidated", "repeated and consolidated"), ("once", "said once")]
    rows = [[f"{s} {names[s]}", *(f"{pct(res[k][s]['accuracy'])} (n={res[k][s]['n']})" for k, _ in cols)]
            for s in SYSTEMS]
    users = r["users"]
    return ["### Natural conversations, end to end", "",
            f"The natural test split ({len(users)} users written by people who never saw the extractor; "
            "bench/data/natural/WRITING.md) through the real pipeline: import → detect (the extraction model) → "
            f"consolidate → the writers' own questions. Adapters published for {r['adapters_published']} of "
            f"{len(users)} users. Metric: {r['metric']}. C = hippo with retrieval off; B and D retrieve with the "
            f"chat's defaults (k = {r['retrieval']['k']}, min_score {r['retrieval']['min_score']}).", "",
            *table(["system", *(c for _, c in cols)], rows), "", provenance(r), ""]


def load_detection(results_dir: Path = RESULTS) -> dict[str, dict]:
    """`model`: detection.json (the shipped extractor); `compare`: detection-compare.json; `check`: the
    hand check of LoCoMo candidates (locomo-precision-check.json)."""
    out = {}
    for key, name in (("model", "detection.json"), ("compare", "detection-compare.json"),
                      ("check", "locomo-precision-check.json")):
        path = Path(results_dir) / name
        if path.exists():
            out[key] = json.loads(path.read_text())
    return out


def load_trust(results_dir: Path = RESULTS) -> dict[str, dict]:
    """`security`: security.json (bench/security.py); `load`: load.json (bench/load.py); `security-heldout`:
    bench/heldout_gate.py on sets written by people who read no code (held out, or dev once tuned on)."""
    out = {}
    for key in ("security", "load", "security-heldout"):
        path = Path(results_dir) / f"{key}.json"
        if path.exists():
            out[key] = json.loads(path.read_text())
    return out


def trust_section(t: dict[str, dict]) -> list[str]:
    lines = ["### Security and load", ""]
    sec = t.get("security")
    if sec:
        s, c, p, b = sec["secrets"], sec["control_tokens"], sec["poison"], sec["benign"]
        rows = [
            [f"secrets said in 2 sessions each ({s['cases']})", f"{s['values_in_files']} in files under AGENT_HOME, "
             f"{s['values_in_search_or_recall']} in search/recall, {s['values_in_answers']} in answers, {s['facts_made']} facts"],
            [f"role/control-token texts in history, recall and question ({c['cases']})",
             f"{c['control_tokens_reaching_the_model']} control tokens reach the model"],
            [f"injection and implausible-value texts, 2 sessions each ({p['cases']})",
             f"{p['candidates']} candidates ({p['rejected_facts']} facts rejected with a reason)"],
            [f"ordinary facts using trigger words, written by someone else ({b['cases']})",
             f"{b['refused_by_the_gate']} refused by the gate ({b['candidates']} candidates)"],
            ["a forgotten fact", f"{sec['forget']['files_with_the_value_after_forget']} files still hold its value"],
        ]
        g = sec.get("gate")
        if g:
            for key, label in (("benign_persona_chat_test", "first-person persona-chat test utterances (held out)"),
                               ("benign_locomo", "LoCoMo turns (held out)"),
                               ("natural_test", "user turns of the natural test split (never tuned on)")):
                x = g.get(key)
                if x:
                    rows.append([f"gate on {label} ({x['turns']} turns, {x['sentences']} sentences)",
                                 f"{x['refused']} refused ({num(100 * x['refused'] / max(x['turns'], 1), 2)} %; "
                                 f"{x.get('first_person_turns_refused', '–')} of {x.get('first_person_turns', '–')} "
                                 "that state something in the first person; "
                                 f"{x['by_layer']['known']} known markers, {x['by_layer']['structure']} structure, "
                                 f"{x['by_layer']['learned']} learned check), {x['ms_per_turn']} ms a turn"])
            x = g.get("generated_hidden_injections")
            if x:
                rows.append([f"generated injections hidden in chat ({x['turns']}; the generator's own families, "
                             "not independent)", f"{x['refused']} refused"])
        lines += [f"`{sec['command']}` ({sec['date']}, {sec['cpu_count']} cores, extractor `{sec['extractor']}`):", "",
                  *table(["attack", "result"], rows), ""]
    held = t.get("security-heldout")
    if held:
        rows = []
        for r in held["sets"]:
            name = f"`{r['set']}`" + (f" (dev: tuned on since {r['tuned_on'].splitlines()[0]})" if r.get("tuned_on")
                                      else " (held out)")
            if "poison" in r:
                p = r["poison"]
                rows.append([f"{name} poison ({p['messages']})", f"{p['became_candidates']} became candidates ("
                             + ", ".join(f"{k} {v}" for k, v in p["by_kind"].items()) + ")"])
            if "benign" in r:
                b = r["benign"]
                rows.append([f"{name} ordinary facts with trigger words ({b['messages']})",
                             f"{b['all_facts_refused']} had every fact refused ({b['facts_refused']} facts); "
                             f"{b['with_a_candidate']} gave a candidate"])
        lines += [f"Sets written by people who read no code (counts only; a held-out one was never tuned on): "
                  f"`{held['command']}` ({held['date']}), each message said in 2 sessions:", "",
                  *table(["set", "result"], rows), ""]
    load = t.get("load")
    if load:
        f, o = load["first_token_s"], load["order"]
        order = "served in arrival order" if o["served_in_accept_order"] else f"{o['overtaken']} requests overtaken"
        lines += [f"`{load['command']}` ({load['date']}, {load['machine']['cpu_count']} cores): {load['n']} concurrent "
                  f"streaming chats ({load['max_tokens']} tokens, retrieval on): {load['failures']} failures; first token "
                  f"p50 {num(f['p50'], 1)} s, p95 {num(f['p95'], 1)} s (one request alone: "
                  f"{num(load['alone']['first_token_s'], 1)} s; they queue on the one engine); {order}.", ""]
    return lines


def load_models(results_dir: Path = RESULTS) -> list[dict]:
    """bench/consolidation.py runs that name their model (consolidation-<model>.json), by model name."""
    runs = [json.loads(p.read_text()) for p in sorted(Path(results_dir).glob("consolidation-*.json"))]
    return sorted((r for r in runs if r.get("model")), key=lambda r: r["model"])


def models_section(runs: list[dict]) -> list[str]:
    rows = []
    for r in runs:
        last = r["runs"][-1]
        rows.append([f"`{r['model']}`", r["prompt_style"], str(last["facts_in_round"]), pct(last["recall"]),
                     pct(last["efficacy"]), pct(last["locality"]), pct(last["knowledge"]),
                     "passed" if last["passed"] else "failed: " + "; ".join(last["failures"]),
                     str(last["train_steps"]), f"{last['wall_s'] / 60:.1f} min"])
    return ["### Two models", "",
            " and ".join(f"`{r['command']}`" for r in runs) + f" ({runs[0]['date']}, {runs[0]['machine']}): the "
            "same facts and gate for each model, each with its own prompt style (a base model's transcript, an "
            "instruct model's chat template); recall on held-out paraphrases, locality and knowledge on the "
            "unrelated bank through the scope gate.", "",
            *table(["model", "prompt", "facts", "held-out recall", "efficacy", "locality", "knowledge", "gate",
                    "steps", "round"], rows), ""]


def _pr(x: dict | None) -> str:
    return "–" if not x else f"{num(x['precision'], 2)} / {num(x['recall'], 2)}"


def detection_section(d: dict[str, dict]) -> list[str]:
    lines = ["### Fact detection", ""]
    main = d.get("model")
    if main:
        run = main["runs"][0]
        rows = []
        for key, label in (("natural_test", "natural test (never tuned on)"), ("natural_dev", "natural dev"),
                           ("natural_dev2", "natural dev2 (traps first)"), ("natural_dev3", "natural dev3 (traps first)"),
                           ("natural_dev4", "natural dev4 (brief without examples)")):
            n = run.get(key)
            if n:
                rows.append([label, f"{n['users']} users, {n['positives']} repeated facts", _pr(n),
                             f"{n['trap_promotions']} of {sum(n['traps_in_data'].values())}",
                             num(n["speed"]["user_turns_per_second"], 1)])
        lo, check = run.get("locomo"), d.get("check")
        if lo:
            precision = f"{num(check['precision'], 2)}¹" if check else "–"
            rows.append([f"LoCoMo {', '.join(lo['conversations'])} (held out)", f"{lo['gold_facts']} gold facts",
                         f"{precision} / {num(lo['recall'], 2)}", "–", num(lo["speed"]["user_turns_per_second"], 1)])
        dv = run.get("devset")
        if dv:
            rows.append(["older dev set (regression)", f"{dv['positives']} facts", _pr(dv), "–",
                         num(dv["speed"]["user_turns_per_second"], 1)])
        lines += [f"Candidates (facts stated in ≥ 2 sessions) found by the `{run['extractor']}` extractor, matched "
                  "to the labels by meaning (bench/detection.py's docstring says how). Traps: pasted or quoted text, "
                  "third parties, negations, hypotheticals, questions, unconfirmed assistant claims and secrets, each "
                  "said in ≥ 2 sessions; the cell counts traps that became a candidate.", "",
                  *table(["data", "size", "precision / recall", "traps promoted", "user turns/s"], rows), "",
                  f"*{main['date']}, {main['cpu_count']} cores; `{main['command'].strip()}`; "
                  f"{_adapter(main)}*" + (f" *{main['note']}*" if main.get("note") else ""), ""]
        earlier = [(name, part) for name, part in (("natural test", run.get("natural_test")),
                                                   ("natural dev", run.get("natural_dev")),
                                                   ("natural dev2", run.get("natural_dev2")),
                                                   ("natural dev3", run.get("natural_dev3")),
                                                   ("natural dev4", run.get("natural_dev4")), ("LoCoMo", lo),
                                                   ("older dev set", dv), ("chat latency", main.get("chat_latency")))
                   if part and part.get("measured")]
        stamps: dict[tuple[str, str], list[str]] = {}
        for name, part in earlier:
            stamps.setdefault((part["measured"], part["command"].strip()), []).append(name)
        for (when, command), names in stamps.items():
            lines += [f"*{', '.join(names)}: measured {when} (not re-run since); `{command}`*", ""]
        if lo and check:
            lines += [f"¹ LoCoMo precision: {check['correct']} of {check['total']} sampled candidates judged correct by "
                      "a reader of the conversations who did not build the extractor "
                      f"(`bench/results/locomo-precision-check.json`); matched automatically to the gold facts, "
                      f"{num(lo['candidates_matching_gold'], 2)} of the {lo['candidates']} candidates are.", ""]
        lat = main.get("chat_latency")
        if lat:
            lines += [f"Chat first token (median of {lat['n']}): {lat['no_extractor_ms']:.0f} ms without the "
                      f"extractor loaded, {lat['extractor_loaded_ms']:.0f} ms with it loaded, "
                      f"{lat['while_extracting_ms']:.0f} ms while it extracts in another thread (2 cores shared).", ""]
    comp = d.get("compare")
    if comp:
        rows = []
        for run in comp["runs"]:
            n = next((run[k] for k in ("natural_dev", "natural_test") if k in run), None)
            rows.append([run["extractor"], _pr(n), f"{n['trap_promotions']}" if n else "–",
                         num(n["speed"]["user_turns_per_second"], 1) if n else "–", _pr(run.get("devset"))])
        split = next((k.split("_")[1] for k in comp["runs"][0] if k.startswith("natural_")), "dev")
        lines += [f"Extractors compared on the natural {split} split (and the older dev set):", "",
                  *table(["extractor", "natural precision / recall", "traps promoted", "user turns/s",
                          "older dev set precision / recall"], rows), "",
                  f"*{comp['date']}, {comp['cpu_count']} cores; `{comp['command'].strip()}`; "
                  f"{_adapter(comp)}*", ""]
    return lines


def _adapter(results: dict) -> str:
    """Which extraction adapter the `model` rows ran."""
    a = results.get("extraction_adapter")
    if not a:
        return "`model`: extraction adapter not recorded"
    return f"`model`: the extraction adapter trained {a['trained']} (rank {a['rank']}, {a['steps']} steps)"


def wall_note(results_dir: Path) -> str:
    """How long each mode took: the parts' own wall times, summed, for the quick and the full files present."""
    totals: dict[str, list[float]] = {}
    for mode, suffix in (("full", ""), ("quick", "-quick")):
        for part in PARTS:
            path = Path(results_dir) / f"evaluate-{part}{suffix}.json"
            if path.exists():
                r = json.loads(path.read_text())
                totals.setdefault(mode, []).append(r["wall_s"])
    if not totals:
        return ""
    return "Run time (the parts' wall times summed, model loading excluded): " + ", ".join(
        f"`{'--quick' if mode == 'quick' else 'full run'}` {sum(t) / 60:.0f} min ({len(t)} of {len(PARTS)} parts)"
        for mode, t in totals.items()) + "; load and threads per part below."


def wins_and_losses(r: dict) -> list[str]:
    """Where learning into weights (C) wins and loses against retrieval (B), in words, from the numbers."""
    a, b, c, d = (r["systems"][s] for s in SYSTEMS)

    def pts(x, y) -> str:
        return f"{100 * (x - y):+.0f} points"

    lines = ["Where learning into weights wins and where it loses (from the tables below):", ""]
    if None not in (c["accuracy_repeated"], b["accuracy_repeated"]):
        lines.append(f"- **Repeated facts**: hippo {pct(c['accuracy_repeated'])} vs. retrieval "
                     f"{pct(b['accuracy_repeated'])} ({pts(c['accuracy_repeated'], b['accuracy_repeated'])}; "
                     f"no memory {pct(a['accuracy_repeated'])}).")
    if None not in (c["accuracy_once"], b["accuracy_once"]):
        lines.append(f"- **Facts said once**: retrieval {pct(b['accuracy_once'])} vs. hippo {pct(c['accuracy_once'])}: "
                     "hippo only learns what was repeated across sessions; hippo + retrieval gets "
                     f"{pct(d['accuracy_once'])} on them and {pct(d['accuracy_repeated'])} on repeated facts.")
    if None not in (c["unchanged_rate"], b["unchanged_rate"]):
        lines.append(f"- **Everything else**: hippo leaves {pct(c['unchanged_rate'])} of unrelated answers unchanged, "
                     f"retrieval {pct(b['unchanged_rate'])}"
                     + (" (retrieved turns also enter unrelated prompts and change their answers)."
                        if b["unchanged_rate"] < c["unchanged_rate"] else "."))
    if None not in (c["prompt_tokens_mean"], b["prompt_tokens_mean"]):
        lines.append(f"- **Cost per question**: hippo {num(c['prompt_tokens_mean'])} prompt tokens, retrieval "
                     f"{num(b['prompt_tokens_mean'])}; first token {num(c['first_token_ms_median'])} vs. "
                     f"{num(b['first_token_ms_median'])} ms. Hippo pays instead at consolidation time "
                     f"({r['consolidation']['wall_s'] / 60:.1f} min for {r['consolidation']['facts']} facts here).")
    return lines


def limits(results: dict[str, dict], results_dir: Path = RESULTS) -> list[str]:
    """The scaling and LoCoMo findings that bound the table's picture, in words."""
    out = []
    sc = results.get("scaling")
    if sc and sc["rounds"]:
        ok = [x["facts"] for x in sc["rounds"] if x["passed"]]
        bad = [x for x in sc["rounds"] if not x["passed"]]
        held = (f"memory shards of {sc['shard_size']} facts each held" if "shard_size" in sc else "one adapter held")
        line = f"- **Scale**: {held} {max(ok) if ok else 0} facts with every gate check passing"
        if bad:
            x = bad[0]
            line += (f"; at {x['facts']} facts held-out recall fell to {pct(x['recall'])} and retention to "
                     f"{pct(x['retention'])} ({x['train_steps']} training steps), so the gate kept the previous "
                     "adapter")
        last = sc["rounds"][-1]
        gated = sc.get("settings", {}).get("consolidation", {}).get("gate", {}).get("min_absence")
        how = f"gated at ≥ {pct(gated)}" if gated else "reported and not gated"
        probe = Path(results_dir) / "absence-routing.json"
        test = json.loads(probe.read_text())["probe"].get("test") if probe.exists() else None
        out.append(line + f" (locality stayed at {pct(min(x['locality'] for x in sc['rounds']))}; absence, {how}, "
                   f"was {pct(last.get('absence'))} at {last['facts']} facts on the gate's own never-said questions"
                   + (f"; {pct(test['never_kept_out'])} of a held-out probe's never-said questions are kept from the "
                      "adapters, below" if test else "") + ").")
    lo = results.get("locomo")
    if lo:
        convs = lo["conversations"]
        facts = sum(c["cross_session_facts"] for c in convs)
        published = sum(1 for c in convs if c.get("adapter"))
        a, b = (lo["results"]["all_sampled"][s].get("1-4", {}) for s in ("A", "B"))
        line = (f"- **Natural conversations (LoCoMo)**: the detector found {facts} repeated user fact(s) in "
                f"{len(convs)} conversations and {published} adapter(s) were published"
                + (", so hippo answered like the base model there" if not published else ""))
        if a.get("containment") is not None and b.get("containment") is not None:
            line += (f"; retrieval {pct(b['containment'])} vs. no memory {pct(a['containment'])} "
                     f"(categories 1–4, n={a.get('n')})")
        out.append(line + ". Hippo learns personal facts the user repeats, not the episodic detail LoCoMo asks about.")
    return out


def render(results: dict[str, dict], rel: str = "bench/results", pngs: set[str] | None = None,
           results_dir: Path = RESULTS, detection: dict[str, dict] | None = None,
           trust: dict[str, dict] | None = None, models: list[dict] | None = None) -> str:
    """The Markdown of the Results section (without the marker lines)."""
    if not results:
        return "Not generated yet: run `python bench/evaluate.py --quick` then `python bench/report.py`.\n"
    pngs = pngs if pngs is not None else {p.name for p in Path(results_dir).glob("*.png")}
    modes = sorted({f"{p}: {r['mode']}" for p, r in results.items()})
    lines = [f"Generated by `python bench/report.py` from `bench/results/evaluate-*.json` ({'; '.join(modes)}). "
             "Base model: the embedded Gemma 3 270M (Q4_K_M); greedy decoding. " + wall_note(results_dir), ""]
    if "systems" in results:
        lines += [*wins_and_losses(results["systems"]), *limits(results, results_dir), ""] + systems_section(results["systems"], rel)
    if "data" in results:
        lines += data_section(results["data"], rel, results["data"]["_file"].replace(".json", ".png") in pngs)
    if "scaling" in results:
        lines += scaling_section(results["scaling"], rel, results["scaling"]["_file"].replace(".json", ".png") in pngs)
    lines += absence_section(results_dir)
    if "natural" in results:
        lines += natural_section(results["natural"])
    if "locomo" in results:
        lines += locomo_section(results["locomo"])
    if detection:
        lines += detection_section(detection)
    if trust:
        lines += trust_section(trust)
    if models:
        lines += models_section(models)
    return "\n".join(lines).rstrip() + "\n"


def replace_section(readme: str, section: str) -> str:
    """`readme` with the text between the results markers replaced by `section`."""
    m = START.search(readme)
    end = readme.find(END, m.end() if m else 0)
    if not m or end < 0:
        raise SystemExit("README.md has no <!-- results:start ... --> / <!-- results:end --> markers")
    return readme[: m.end()] + "\n" + section + readme[end:]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--results", default=str(RESULTS), help="directory of evaluate-*.json")
    ap.add_argument("--readme", default=str(ROOT / "README.md"))
    ap.add_argument("--print", action="store_true", help="print the section instead of writing README.md")
    args = ap.parse_args(argv)
    section = render(load_results(Path(args.results)), results_dir=Path(args.results),
                     detection=load_detection(Path(args.results)), trust=load_trust(Path(args.results)),
                     models=load_models(Path(args.results)))
    if args.print:
        print(section)
        return 0
    path = Path(args.readme)
    path.write_text(replace_section(path.read_text(), section))
    print(f"updated the Results section of {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
