"""`agent daemon`: the one long-lived owner of the memory store, the ledger, the engine and jobs.

It holds the store's owner lock for its whole life (so no other process can write the store),
serves the local HTTP API (`agent.server`) and runs an APScheduler 3 scheduler:

- `idle-check` (interval): when the user has been idle `idle_minutes` and there are new
  candidates or facts to unlearn, queue a consolidation;
- `detect` (one-shot, re-added after new turns, so bursts coalesce): fact detection;
- `consolidate` (one-shot): one consolidation run, on a separate engine so chat goes on;
- `nightly` (cron, optional): consolidate at `daemon.nightly`.

The jobs live in memory (APScheduler's default store): they are registered from code at every
start, and APScheduler runs are at-most-once, so every consolidation is recorded under
`$AGENT_HOME/daemon/runs/` (started → finished). A run still "running" when the daemon starts
was cut short (kill -9, power loss): it is marked interrupted and resumed at once.
The registry keeps the previous adapter live through any crash (see `consolidation.pipeline`).
"""

from __future__ import annotations

import hashlib
import logging
import logging.handlers
import os
import secrets
import signal
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator

from agent import operations as ops
from agent.client import daemon_dir, info_path, read_info, token_path
from config import Settings, UserError
from config.atomic import atomic_write_json, atomic_write_text
from config.private import secure_home
from agent.fair_lock import FairRLock

log = logging.getLogger("hippo.daemon")


class LockedMemory:
    """A `Memory` whose method calls are serialised by one lock (HTTP threads + job threads)."""

    def __init__(self, memory, lock: threading.RLock) -> None:
        self._memory, self._lock = memory, lock

    def __getattr__(self, name: str):
        attr = getattr(self._memory, name)
        if not callable(attr):
            return attr

        def call(*args, **kwargs):
            with self._lock:
                return attr(*args, **kwargs)

        return call

    @property
    def embedder(self):
        """Needs no memory lock: imports embed their turns outside it."""
        return self._memory.embedder


class Cancelled(Exception):
    """Raised from a progress callback when the daemon is stopping."""


@dataclass
class Run:
    """One consolidation: its progress events (for streaming to clients) and its outcome."""

    id: str
    trigger: str
    events: list[dict] = field(default_factory=list)
    done: bool = False
    report: dict | None = None
    stage: str = "queued"
    cond: threading.Condition = field(default_factory=threading.Condition, repr=False)

    def emit(self, event: dict) -> None:
        with self.cond:
            self.events.append(event)
            self.cond.notify_all()

    def finish(self, report: dict) -> None:
        with self.cond:
            self.report, self.done = report, True
            self.events.append({"event": "report", "report": report})
            self.cond.notify_all()

    def follow(self, heartbeat: float = 15.0) -> Iterator[dict]:
        """Every event from the start, then new ones as they come, until the report."""
        i = 0
        while True:
            with self.cond:
                if i >= len(self.events) and not self.done:
                    self.cond.wait(heartbeat)
                new, done = self.events[i:], self.done
            i += len(new)
            if not new and not done:
                yield {"event": "heartbeat"}
            yield from new
            if done and i >= len(self.events):
                return

    def summary(self) -> dict:
        last = next((e for e in reversed(self.events) if e["event"] == "progress"), None)
        return {"id": self.id, "trigger": self.trigger, "stage": self.stage, "done": self.done,
                "progress": [last["done"], last["total"]] if last else None}


class RunRecords:
    """`daemon/runs/<id>.json`: our own record of every consolidation run (atomic writes)."""

    def __init__(self, home: Path) -> None:
        self.dir = daemon_dir(home) / "runs"

    def start(self, run: Run) -> dict:
        rec = {"id": run.id, "trigger": run.trigger, "pid": os.getpid(), "status": "running",
               "started": _now(), "finished": None}
        atomic_write_json(self.dir / f"{run.id}.json", rec)
        return rec

    def finish(self, rec: dict, **fields) -> None:
        rec.update(fields, finished=_now())
        atomic_write_json(self.dir / f"{rec['id']}.json", rec)

    def all(self) -> list[dict]:
        import json

        out = []
        for p in sorted(self.dir.glob("*.json")):
            try:
                out.append(json.loads(p.read_text()))
            except (OSError, ValueError):
                continue
        return out

    def mark_interrupted(self) -> list[dict]:
        """Runs left "running" (the caller holds the store lock, so their process is gone)."""
        cut = [r for r in self.all() if r.get("status") == "running"]
        for r in cut:
            self.finish(r, status="interrupted", reason="the daemon stopped during this run")
        return cut


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S%z")


def ensure_token(home: Path) -> str:
    """The API token (created once, mode 0600; tightened if someone loosened it)."""
    path = token_path(home)
    if path.exists():
        if path.stat().st_mode & 0o077:
            log.warning("token file %s was readable by others; setting mode 0600", path)
            os.chmod(path, 0o600)
        token = path.read_text().strip()
        if token:
            return token
    token = secrets.token_urlsafe(32)
    path.parent.mkdir(parents=True, exist_ok=True)
    old = os.umask(0o077)
    try:
        atomic_write_text(path, token + "\n")
    finally:
        os.umask(old)
    os.chmod(path, 0o600)
    return token


def setup_logging(home: Path, foreground: bool) -> Path:
    """Log to `$AGENT_HOME/logs/daemon.log` (rotated), and to stderr in the foreground."""
    secure_home(home)  # the log is private from its first line
    path = home / "logs" / "daemon.log"
    path.parent.mkdir(parents=True, exist_ok=True)
    root = logging.getLogger("hippo")
    root.setLevel(logging.INFO)
    fmt = logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
    handler = logging.handlers.RotatingFileHandler(path, maxBytes=5 * 2**20, backupCount=3)
    handler.setFormatter(fmt)
    root.addHandler(handler)
    if foreground:
        stream = logging.StreamHandler()
        stream.setFormatter(fmt)
        root.addHandler(stream)
    for name in ("apscheduler", "llama_cpp", "uvicorn"):
        logging.getLogger(name).setLevel(logging.WARNING)
        logging.getLogger(name).addHandler(handler)
    return path


class Daemon:
    """The state owner. `start()` acquires everything, `serve()` blocks, `stop()` releases."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.home = settings.home
        self.records = RunRecords(self.home)
        self.state_lock = FairRLock()  # memory calls, in arrival order
        self.detect_lock = threading.Lock()  # one detection batch at a time; shutdown waits for it
        self.run_lock = threading.Lock()  # self.run
        self.run: Run | None = None
        self.last_run: dict | None = None
        self.stopping = threading.Event()
        self.last_activity = time.time()
        self.started = time.time()
        self._last_tried: str | None = None
        self.memory = self.engine = self.server = self.scheduler = None

    # ---- lifecycle ------------------------------------------------------------------------
    def start(self) -> None:
        from agent.runtime import open_engine
        from agent.server import make_server
        from consolidation.registry import Registry
        from memory import Memory

        running = read_info(self.home)
        if running and running.get("pid") != os.getpid():
            raise UserError(f"a daemon already runs for {self.home} (PID {running['pid']}, "
                            f"http://{running['host']}:{running['port']})")
        memory = Memory(self.settings)  # the owner lock: fails if anyone else has the store
        self.memory = LockedMemory(memory, self.state_lock)
        try:
            stale = Registry(self.home).clean()
            if stale:
                log.info("removed half-written adapter versions: %s", ", ".join(stale))
            interrupted = self.records.mark_interrupted()
            self.engine = open_engine(self.settings)
            self.token = ensure_token(self.home)
            self.server = make_server(self)
            self.port = self.server.port
            atomic_write_json(info_path(self.home), {
                "pid": os.getpid(), "host": self.settings.daemon.host, "port": self.port,
                "started": _now(), "home": str(self.home)})
            self._start_scheduler()  # last: nothing after it can fail and leave it running
        except BaseException:
            self._release()
            raise
        adapter = self.engine.adapter.version if self.engine.adapter else "none"
        log.info("daemon started: pid %d, http://%s:%d, adapter %s, idle %.1f min",
                 os.getpid(), self.settings.daemon.host, self.port, adapter, self.settings.daemon.idle_minutes)
        if interrupted:
            log.warning("consolidation %s was interrupted; resuming", ", ".join(r["id"] for r in interrupted))
            self.begin_consolidation("resume", force=True)

    def _start_scheduler(self) -> None:
        from apscheduler.executors.pool import ThreadPoolExecutor
        from apscheduler.schedulers.background import BackgroundScheduler

        d = self.settings.daemon
        self.scheduler = BackgroundScheduler(
            executors={"default": ThreadPoolExecutor(3)},
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 600})
        self.scheduler.add_job(self.idle_check, "interval", seconds=d.check_seconds, id="idle-check")
        if d.nightly:
            hour, minute = d.nightly.split(":")
            self.scheduler.add_job(self.begin_consolidation, "cron", hour=int(hour), minute=int(minute),
                                   id="nightly", args=["nightly"], kwargs={"force": True})
        self.scheduler.start()

    def serve(self) -> None:
        """Serve until `stop()` (SIGTERM/SIGINT or POST /v1/hippo/shutdown)."""
        def on_signal(signum, frame):
            log.info("signal %d: stopping", signum)
            self.request_stop()

        if threading.current_thread() is threading.main_thread():
            signal.signal(signal.SIGTERM, on_signal)
            signal.signal(signal.SIGINT, on_signal)
        try:
            self.server.serve()
        finally:
            self._shutdown()

    def request_stop(self) -> None:
        if not self.stopping.is_set():
            self.stopping.set()
            self.server.stop()

    def _shutdown(self) -> None:
        run = self.run
        if run is not None and not run.done:
            log.info("waiting for consolidation %s to cancel", run.id)
            with run.cond:
                run.cond.wait_for(lambda: run.done, timeout=60)
        if self.scheduler is not None:
            self.scheduler.shutdown(wait=False)
        self.server.close()
        if self.detect_lock.acquire(timeout=60):  # a batch being extracted finishes (it is not recorded)
            self.detect_lock.release()
        self._release()
        log.info("daemon stopped")

    def _release(self) -> None:
        try:
            info = read_info(self.home)
            if info is None or info.get("pid") == os.getpid():
                info_path(self.home).unlink(missing_ok=True)
        finally:
            if self.engine is not None:
                self.engine.close()
            if self.memory is not None:
                from memory.extract import close_extractors

                close_extractors()
                self.memory.close()

    # ---- chat -----------------------------------------------------------------------------
    def adapter(self) -> tuple[str | None, int]:
        """(version, #facts) of the adapter the next answer uses: the registry's current one, swapped
        in now if it changed (a rollback, or a publish elsewhere)."""
        from consolidation.live import sync_adapter

        return sync_adapter(self.engine, self.settings)

    def chat(self, question: str, history: list[tuple[str, str]], session: str, retrieval: bool,
             remember: bool, max_tokens: int | None) -> Iterator[str]:
        """Stream the answer; afterwards remember both turns and queue detection."""
        self.touch()
        context: tuple[str, ...] = ()
        if retrieval:
            context = ops.context_for(self.engine, self.memory, question, session)

        def after() -> None:
            if remember:
                self.queue_detect()
            self.touch()

        yield from ops.answer_and_remember(self.engine, self.memory, question, history, context, max_tokens,
                                           session if remember else None, after)

    def touch(self) -> None:
        self.last_activity = time.time()

    def queue_detect(self) -> None:
        """Detect facts in new turns once the chat has been quiet `detect_delay_seconds` (bursts coalesce)."""
        from datetime import datetime, timedelta

        when = datetime.now() + timedelta(seconds=self.settings.daemon.detect_delay_seconds)
        self.scheduler.add_job(self.detect, "date", run_date=when, id="detect", replace_existing=True,
                               kwargs={"yield_to_chat": True})

    def detect(self, yield_to_chat: bool = False, progress: Callable[[int, int], None] | None = None):
        """Fact detection: the extractor runs outside the memory lock, batch by batch, so chat, recall and
        imports go on meanwhile; each batch is recorded in one short transaction. As the `detect` job
        (`yield_to_chat`) it stops between batches when someone chats and runs again once they pause."""
        from memory.detect import BATCH, DetectReport
        from memory.extract import extract

        extractor = self.memory.extractor
        rep = DetectReport()
        total = self.memory.pending_count() if progress else 0
        while not self.stopping.is_set():
            if yield_to_chat and time.time() - self.last_activity < self.settings.daemon.detect_delay_seconds:
                self.queue_detect()
                break
            with self.detect_lock:  # held per batch: the daemon does not close memory under it
                batch = self.memory.pending_turns(BATCH)
                if not batch:
                    break
                found = extract(extractor, [p.turn for p in batch])
                if self.stopping.is_set():
                    break
                rep.add(self.memory.record(batch, found))
                if progress:
                    progress(min(rep.turns_scanned, total), total)
        if rep.promoted or rep.superseded:
            log.info("detection: %d new candidate(s), %d superseded", len(rep.promoted), len(rep.superseded))
        return rep

    def import_turns(self, turns: list[dict], progress: Callable[[str, int, int], None] | None = None) -> dict:
        """Embed outside the memory lock, store in one short transaction, then detect batch by batch:
        chat goes on during a big import except while its turns are written."""
        self.touch()
        detect_progress = progress and (lambda done, total: progress("detecting facts", done, total))
        result = ops.import_turns(self.memory, turns, lambda: self.detect(progress=detect_progress), progress)
        log.info("imported %d turns (%d candidates)", result["turns_imported"], result["candidates"])
        return result

    # ---- consolidation --------------------------------------------------------------------
    def pending(self) -> str | None:
        """A fingerprint of what a consolidation would change (None: nothing to do)."""
        from consolidation.live import fits
        from consolidation.registry import Registry

        ids = sorted(f.id for f in self.memory.facts("candidate")) + sorted(f.id for f in self.memory.to_unlearn())
        current = Registry(self.settings.home).current()
        if current is not None and not fits(current, self.engine.base_sha256):  # the user changed models
            ids.append(f"retrain {current.name} for {self.engine.base_sha256}")
        return hashlib.sha1(",".join(ids).encode()).hexdigest() if ids else None

    def idle_check(self) -> None:
        """The idle trigger APScheduler lacks: consolidate once the user has been away long enough."""
        if self.run is not None and not self.run.done:
            return
        if time.time() - self.last_activity < self.settings.daemon.idle_minutes * 60:
            return
        fingerprint = self.pending()
        if fingerprint is None or fingerprint == self._last_tried:  # a rejected set is not retried
            return
        self.begin_consolidation("idle")

    def begin_consolidation(self, trigger: str, force: bool = False) -> Run:
        """The running consolidation, or a new one queued now."""
        with self.run_lock:
            if self.run is not None and not self.run.done:
                return self.run
            self.run = Run(time.strftime("%Y%m%dT%H%M%S") + f"-{trigger}", trigger)
            self.scheduler.add_job(self.execute_run, id="consolidate", replace_existing=True, args=[trigger])
            log.info("consolidation queued (%s)", trigger)
            return self.run

    def execute_run(self, trigger: str) -> None:
        """The `consolidate` job: one pipeline run on a work engine; the live engine swaps after."""
        from agent.runtime import open_engine
        from consolidation.pipeline import consolidate

        with self.run_lock:
            run = self.run if self.run is not None and not self.run.done else None
            if run is None:
                run = self.run = Run(time.strftime("%Y%m%dT%H%M%S") + f"-{trigger}", trigger)
        rec = self.records.start(run)
        self._last_tried = self.pending()
        state = {"stage": None}

        def progress(stage: str, done: int, total: int) -> None:
            if self.stopping.is_set():
                raise Cancelled()
            run.stage = stage
            if stage != state["stage"]:
                state["stage"] = stage
                log.info("consolidation %s: %s", run.id, stage)
            run.emit({"event": "progress", "stage": stage, "done": done, "total": total})

        def message(text: str) -> None:
            if self.stopping.is_set():
                raise Cancelled()
            log.info("consolidation %s: %s", run.id, text)
            run.emit({"event": "log", "message": text})

        report: dict
        work = None
        try:
            work = open_engine(self.settings, use_registry=False)  # chat goes on on the live engine
            result = consolidate(self.settings, self.memory, work, progress=progress, log=message, detect=self.detect)
            report = result.to_dict()
            status = "published" if result.version else ("done" if result.published else
                                                         "nothing" if result.reason.startswith("nothing") else "rejected")
            self.records.finish(rec, status=status, reason=result.reason, version=result.version)
            if result.published:
                self.adapter()
            log.info("consolidation %s: %s", run.id, result.reason)
        except Cancelled:
            report = {"version": None, "published": False, "reason": "cancelled: the daemon is stopping"}
            self.records.finish(rec, status="interrupted", reason=report["reason"])
            log.info("consolidation %s cancelled", run.id)
        except Exception as e:  # a failed run must not take the daemon down
            log.exception("consolidation %s failed", run.id)
            report = {"version": None, "published": False, "reason": f"failed: {e}"}
            self.records.finish(rec, status="failed", reason=str(e))
        finally:
            if work is not None:
                work.close()
        run.stage = "done"
        self.last_run = rec
        run.finish(report)

    # ---- status ---------------------------------------------------------------------------
    def status(self) -> dict:
        from agent.status import collect_status

        info = collect_status(self.settings)
        jobs = [{"id": j.id, "next_run": j.next_run_time.isoformat() if j.next_run_time else None}
                for j in self.scheduler.get_jobs()]
        info["daemon"] = {
            "pid": os.getpid(), "url": f"http://{self.settings.daemon.host}:{self.port}",
            "uptime_s": round(time.time() - self.started), "idle_s": round(time.time() - self.last_activity),
            "idle_minutes": self.settings.daemon.idle_minutes,
            "consolidation": self.run.summary() if self.run is not None and not self.run.done else None,
            "last_run": self.last_run or (self.records.all() or [None])[-1], "jobs": jobs,
            "log": str(self.home / "logs" / "daemon.log"),
        }
        return info
