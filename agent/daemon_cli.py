"""`agent daemon [--foreground]`, `agent daemon stop`, `agent daemon status`."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import typer
from rich.console import Console

from agent.client import DaemonClient, pid_alive, read_info, token_path
from config import UserError, load_settings

console = Console()
daemon_app = typer.Typer(help="The background agent: owns memory, consolidates when you are idle, serves the API.",
                         invoke_without_command=True)


@daemon_app.callback()
def daemon(
    ctx: typer.Context,
    foreground: bool = typer.Option(False, "--foreground", "-f", help="Run in this terminal (logs to stderr too)."),
    detached: bool = typer.Option(False, "--detached", hidden=True),
) -> None:
    """Start the daemon (in the background unless --foreground); see also stop, status."""
    if ctx.invoked_subcommand is not None:
        return
    settings = load_settings()
    if foreground or detached:
        from agent.daemon import Daemon, setup_logging

        setup_logging(settings.home, foreground=not detached)
        d = Daemon(settings)
        d.start()
        if not detached:
            console.print(f"[bold]hippo-agent daemon[/] on http://{settings.daemon.host}:{d.port} "
                          f"(pid {os.getpid()}) — Ctrl-C stops it", highlight=False)
        d.serve()
        return
    start(settings)


def start(settings) -> dict:
    """Spawn `agent daemon --detached` and wait until it answers."""
    info = read_info(settings.home)
    if info:
        raise UserError(f"the daemon already runs (PID {info['pid']}, http://{info['host']}:{info['port']})")
    logs = settings.home / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    with open(logs / "daemon.out", "ab") as out:
        proc = subprocess.Popen([sys.executable, "-m", "agent", "daemon", "--detached"], stdin=subprocess.DEVNULL,
                                stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    deadline = time.time() + settings.daemon.start_timeout
    with console.status("starting the daemon (loading model and memory)…"):
        while time.time() < deadline:
            if proc.poll() is not None:
                raise UserError(f"the daemon exited during start: {_last_line(logs / 'daemon.out')}")
            info = read_info(settings.home)
            if info and info.get("pid") == proc.pid:
                console.print(f"daemon running: pid {proc.pid}, http://{info['host']}:{info['port']} "
                              f"(logs: {logs / 'daemon.log'})", highlight=False)
                return info
            time.sleep(0.2)
    proc.terminate()
    raise UserError(f"the daemon did not start within {settings.daemon.start_timeout:.0f} s; see {logs / 'daemon.out'}")


def _last_line(path) -> str:
    try:
        lines = [ln for ln in path.read_text(errors="replace").splitlines() if ln.strip()]
    except OSError:
        return "no output"
    errors = [ln for ln in lines if ln.startswith("error:")]
    return (errors or lines or ["no output"])[-1].removeprefix("error: ")


@daemon_app.command("start")
def start_cmd() -> None:
    """Start the daemon in the background (same as plain `agent daemon`)."""
    start(load_settings())


@daemon_app.command()
def stop(timeout: float = typer.Option(60.0, help="Seconds to wait before sending SIGKILL.")) -> None:
    """Stop the daemon (a running consolidation is cancelled and resumes at the next start)."""
    settings = load_settings()
    client = DaemonClient.find(settings)
    if client is None:
        console.print("no daemon running")
        return
    try:
        client.request("POST", "/v1/hippo/shutdown")
    except UserError:
        os.kill(client.pid, signal.SIGTERM)
    deadline = time.time() + timeout
    while pid_alive(client.pid) and time.time() < deadline:
        time.sleep(0.1)
    if pid_alive(client.pid):
        os.kill(client.pid, signal.SIGKILL)
        console.print(f"daemon (pid {client.pid}) did not stop in {timeout:.0f} s: killed")
        return
    console.print(f"daemon stopped (pid {client.pid})")


@daemon_app.command()
def status(as_json: bool = typer.Option(False, "--json")) -> None:
    """Is it running; its address, idle time, consolidation in progress, jobs, last run."""
    settings = load_settings()
    client = DaemonClient.find(settings)
    if client is None:
        if as_json:
            print(json.dumps({"running": False}))
        else:
            console.print("no daemon running — `agent daemon` starts one")
        return
    d = client.request("GET", "/v1/hippo/status")["daemon"]
    d = {"running": True, **d, "openai_base_url": f"{d['url']}/v1", "token_file": str(token_path(settings.home))}
    if as_json:
        print(json.dumps(d, indent=2, default=str))
        return
    run = d["consolidation"]
    last = d["last_run"]
    console.print(f"daemon running: pid {d['pid']}, {d['url']}, up {d['uptime_s']} s, idle {d['idle_s']} s "
                  f"(consolidates after {d['idle_minutes']:g} min idle)", highlight=False)
    console.print("consolidation: " + (f"{run['stage']} {run['progress'] or ''} ({run['trigger']})" if run else "not running"),
                  highlight=False)
    if last:
        console.print(f"last run: {last['id']} {last['status']} — {last.get('reason') or ''}", highlight=False)
    for job in d["jobs"]:
        console.print(f"job {job['id']}: next {job['next_run']}", highlight=False)
    console.print(f"OpenAI-compatible: base_url {d['openai_base_url']}, api_key = contents of {d['token_file']}",
                  highlight=False)
    console.print(f"log: {d['log']}", highlight=False)


def register(app: typer.Typer) -> None:
    app.add_typer(daemon_app, name="daemon")
