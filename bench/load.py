"""Load benchmark: N concurrent streaming chats against the daemon with the real embedded model.

    python bench/load.py [--n 100] [--max-tokens 16] [--stagger 0.01]

Starts `agent daemon --foreground` in a fresh temporary AGENT_HOME (the model cache is shared),
seeds remembered turns so retrieval has something to find, answers one request alone (warm-up
and baseline), then opens N streaming chat completions (each a different question, retrieval
on) `--stagger` seconds apart: all are in flight long before the first one ends, and the order
the server accepted them (its response headers arrive before generation) is well defined.

Per request: seconds to the first content token and to `[DONE]`, from its own send, and
failures (refused, reset, non-200, a stream without `[DONE]`). Requests queue on the one
engine lock, so latency grows with queue position. Also: were queued requests served in the
order they were accepted (first tokens in accept order)? Writes bench/results/load.json.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from agent.client import DaemonClient, read_info, token_path  # noqa: E402

HERE = Path(__file__).parent
SEED_FACTS = 20  # persona facts told in two sessions each before the run
DAEMON_ENV = {  # detection and idle consolidation pushed past the run: chat is what we measure
    "AGENT_DAEMON__PORT": "0", "AGENT_DAEMON__DETECT_DELAY_SECONDS": "3600", "AGENT_DAEMON__IDLE_MINUTES": "1440",
    "AGENT_MEMORY__EXTRACTOR": "rules", "HF_HUB_OFFLINE": "1"}  # rules: the seeding import's detection is quick


def start_daemon(home: Path) -> tuple[subprocess.Popen, DaemonClient]:
    """`agent daemon --foreground` for `home` (default settings but DAEMON_ENV), and a client for it."""
    env = {**os.environ, **DAEMON_ENV, "AGENT_HOME": str(home)}
    proc = subprocess.Popen([sys.executable, "-m", "agent", "daemon", "--foreground"], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 600
    while (info := read_info(home)) is None:
        if proc.poll() is not None or time.time() > deadline:
            log = home / "logs" / "daemon.log"
            raise SystemExit(f"the daemon did not start:\n{log.read_text()[-3000:] if log.exists() else ''}")
        time.sleep(0.5)
    return proc, DaemonClient(info["host"], int(info["port"]), token_path(home).read_text().strip(), int(info["pid"]))


def stop_daemon(proc: subprocess.Popen, client: DaemonClient) -> None:
    client.request("POST", "/v1/hippo/shutdown")
    try:
        proc.wait(120)
    except subprocess.TimeoutExpired:
        proc.kill()


def seed_turns(facts: list[dict]) -> list[dict]:
    return [{"session": f"seed-{s}", "role": "user", "content": f"My {f['attribute']} is {f['value']}."}
            for s in (1, 2) for f in facts]


def stream_chat(client: DaemonClient, question: str, session: str, max_tokens: int, t0: float) -> dict:
    """One streaming chat; times in seconds (`*_at`: since t0, the burst's start)."""
    rec = {"question": question, "status": None, "error": None, "accepted_at": None, "first_token_at": None,
           "first_token_s": None, "last_token_s": None, "total_s": None, "pieces": 0}
    body = json.dumps({"model": "hippo", "messages": [{"role": "user", "content": question}], "stream": True,
                       "max_tokens": max_tokens, "session": session, "retrieval": True}).encode()
    sent = time.perf_counter()
    conn = http.client.HTTPConnection(client.host, client.port, timeout=3600)
    try:
        conn.request("POST", "/v1/chat/completions", body=body,
                     headers={"Authorization": f"Bearer {client.token}", "Content-Type": "application/json"})
        resp = conn.getresponse()
        rec["status"], rec["accepted_at"] = resp.status, time.perf_counter() - t0
        if resp.status != 200:
            rec["error"] = resp.read()[:300].decode(errors="replace")
            return rec
        for raw in resp:
            data = raw.strip().removeprefix(b"data:").strip()
            if data == b"[DONE]":
                rec["total_s"] = time.perf_counter() - sent
                break
            if data and json.loads(data)["choices"][0]["delta"].get("content"):
                now = time.perf_counter()
                if rec["first_token_at"] is None:
                    rec["first_token_s"], rec["first_token_at"] = now - sent, now - t0
                rec["last_token_s"] = now - sent
                rec["pieces"] += 1
        if rec["total_s"] is None:
            rec["error"] = "stream ended without [DONE]"
    except OSError as e:
        rec["error"] = repr(e)
    finally:
        conn.close()
    return rec


def burst(client: DaemonClient, questions: list[str], max_tokens: int, stagger: float) -> tuple[list[dict], float]:
    """All questions at once (`stagger` s apart), one thread and connection each."""
    records: list[dict | None] = [None] * len(questions)
    t0 = time.perf_counter()

    def run(i: int) -> None:
        records[i] = stream_chat(client, questions[i], f"load-{i}", max_tokens, t0)

    threads = []
    for i in range(len(questions)):
        threads.append(threading.Thread(target=run, args=(i,)))
        threads[-1].start()
        time.sleep(stagger)
    for t in threads:
        t.join()
    return records, time.perf_counter() - t0


def percentiles(xs: list[float]) -> dict:
    if not xs:
        return {}
    cuts = statistics.quantiles(xs, n=20, method="inclusive") if len(xs) > 1 else [xs[0]] * 19
    return {"p50": round(statistics.median(xs), 3), "p95": round(cuts[18], 3), "max": round(max(xs), 3),
            "min": round(min(xs), 3)}


def order_check(records: list[dict]) -> dict:
    """Did first tokens come in the order the requests were accepted (a FIFO queue)?"""
    done = [r for r in records if r["first_token_at"] is not None and r["accepted_at"] is not None]
    by_accept = sorted(range(len(done)), key=lambda i: done[i]["accepted_at"])
    first_rank = {i: rank for rank, i in enumerate(sorted(range(len(done)), key=lambda i: done[i]["first_token_at"]))}
    served = [first_rank[i] for i in by_accept]  # first-token rank, in accept order
    pairs = [(a, b) for k, a in enumerate(served) for b in served[k + 1:]]
    return {"served_in_accept_order": served == sorted(served),
            "pairs_in_order": round(sum(a < b for a, b in pairs) / len(pairs), 3) if pairs else None,
            "overtaken": sum(any(b < a for b in served[k + 1:]) for k, a in enumerate(served)),
            "max_positions_jumped": max((k - rank for k, rank in enumerate(served)), default=0),
            "first_token_rank_by_accept_order": served}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=100)
    ap.add_argument("--max-tokens", type=int, default=16)
    ap.add_argument("--stagger", type=float, default=0.01, help="seconds between request starts")
    ap.add_argument("--out", type=Path, default=HERE / "results" / "load.json")
    args = ap.parse_args()

    facts = json.loads((HERE / "data" / "persona_large.json").read_text())
    if len(facts) < args.n:
        raise SystemExit(f"persona_large.json has {len(facts)} attributes, fewer than --n {args.n}")
    questions = [f"What is my {f['attribute']}?" for f in facts[:args.n]]
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="hippo-load-") as tmp:
        t_start = time.perf_counter()
        proc, client = start_daemon(Path(tmp))
        try:
            startup_s = time.perf_counter() - t_start
            client.request("POST", "/v1/hippo/import", {"turns": seed_turns(facts[:SEED_FACTS])})
            status = client.request("GET", "/v1/hippo/status")
            alone = stream_chat(client, "Where do I live?", "warm-up", args.max_tokens, time.perf_counter())
            records, wall = burst(client, questions, args.max_tokens, args.stagger)
        finally:
            stop_daemon(proc, client)

    failures = [r for r in records if r["error"] or r["status"] != 200]
    result = {
        "command": " ".join(["python", "bench/load.py", *sys.argv[1:]]),
        "date": time.strftime("%Y-%m-%d %H:%M"),
        "machine": {"cpu_count": os.cpu_count(), "platform": platform.platform(), "machine": platform.machine(),
                    "python": platform.python_version(), "loadavg_before": [round(x, 2) for x in load_before]},
        "model": Path(str(status.get("model", ""))).name,
        "n": args.n, "max_tokens": args.max_tokens, "stagger_s": args.stagger, "retrieval": True,
        "daemon_env": DAEMON_ENV,
        "remembered_turns_before": SEED_FACTS * 2,
        "daemon_startup_s": round(startup_s, 2),
        "alone": {k: alone[k] and round(alone[k], 3) for k in ("first_token_s", "last_token_s", "total_s")},
        "failures": len(failures),
        "failure_kinds": sorted({str(r["error"] or r["status"])[:120] for r in failures}),
        "first_token_s": percentiles([r["first_token_s"] for r in records if r["first_token_s"] is not None]),
        "total_s": percentiles([r["total_s"] for r in records if r["total_s"] is not None]),
        "done_after_last_token_s": percentiles([r["total_s"] - r["last_token_s"] for r in records  # remembering
                                                if r["total_s"] is not None and r["last_token_s"] is not None]),
        "wall_s": round(wall, 2),
        "requests_per_s": round((len(records) - len(failures)) / wall, 3),
        "order": order_check(records),
        "requests": [{k: (round(v, 3) if isinstance(v, float) else v) for k, v in r.items()} for r in records],
    }
    ft, tot, order = result["first_token_s"], result["total_s"], result["order"]
    print(f"{args.n} concurrent streaming chats, max_tokens {args.max_tokens}, retrieval on, "
          f"{os.cpu_count()} cores, model {result['model']}")
    print(f"  alone: first token {result['alone']['first_token_s']} s, last {result['alone']['last_token_s']} s, "
          f"total {result['alone']['total_s']} s")
    print(f"  failures {len(failures)}/{args.n}  {result['failure_kinds'] or ''}")
    print(f"  first token s  p50 {ft.get('p50')}  p95 {ft.get('p95')}  max {ft.get('max')}")
    print(f"  total s        p50 {tot.get('p50')}  p95 {tot.get('p95')}  max {tot.get('max')}")
    print(f"  [DONE] after the last token (remembering the turns) p50 {result['done_after_last_token_s'].get('p50')} s")
    print(f"  wall {result['wall_s']} s, {result['requests_per_s']} requests/s")
    print(f"  served in accept order: {order['served_in_accept_order']} (pairs in order {order['pairs_in_order']}, "
          f"{order['overtaken']} overtaken, max jump {order['max_positions_jumped']})")
    args.out.parent.mkdir(exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
