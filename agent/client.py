"""Talking to a running daemon: discovery (`daemon.json` + token file) and a small HTTP client.

Only the standard library: every CLI command checks for a daemon first, so this must be cheap.
"""

from __future__ import annotations

import http.client
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from config import Settings, UserError


def daemon_dir(home: Path) -> Path:
    return home / "daemon"


def info_path(home: Path) -> Path:
    """`daemon.json`: pid, host, port, start time of the running daemon (gone when it stops)."""
    return daemon_dir(home) / "daemon.json"


def token_path(home: Path) -> Path:
    return daemon_dir(home) / "token"


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def read_info(home: Path) -> dict | None:
    """The running daemon's `daemon.json`, or None (no file, unreadable, or its process is gone)."""
    try:
        info = json.loads(info_path(home).read_text())
    except (OSError, ValueError):
        return None
    if not isinstance(info, dict) or not pid_alive(int(info.get("pid", 0) or 0)):
        return None
    return info


class DaemonError(UserError):
    """The daemon answered with an error (its message is the user-facing line)."""


@dataclass
class DaemonClient:
    """Requests to the daemon's API with the bearer token; JSON in, JSON (or a stream) out."""

    host: str
    port: int
    token: str
    pid: int = 0
    timeout: float = 600.0

    @classmethod
    def find(cls, settings: Settings) -> "DaemonClient | None":
        """A client for the daemon of `settings.home`, or None when none runs."""
        info = read_info(settings.home)
        if info is None:
            return None
        try:
            token = token_path(settings.home).read_text().strip()
        except OSError:
            raise UserError(f"a daemon runs (PID {info['pid']}) but its token file is unreadable: "
                            f"{token_path(settings.home)}") from None
        return cls(info["host"], int(info["port"]), token, int(info["pid"]))

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    # ---- plumbing ---------------------------------------------------------------------------
    def _send(self, method: str, path: str, body: dict | None = None) -> http.client.HTTPResponse:
        conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
        headers = {"Authorization": f"Bearer {self.token}"}
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        try:
            conn.request(method, path, body=data, headers=headers)
            resp = conn.getresponse()
        except OSError as e:
            conn.close()
            raise UserError(f"cannot reach the daemon at {self.url} (PID {self.pid}): {e}") from None
        if resp.status >= 400:
            raw = resp.read()
            conn.close()
            try:
                message = json.loads(raw)["error"]["message"]
            except (ValueError, KeyError, TypeError):
                message = raw.decode(errors="replace").strip() or resp.reason
            raise DaemonError(message)
        return resp

    def request(self, method: str, path: str, body: dict | None = None):
        """One JSON request and its JSON answer."""
        resp = self._send(method, path, body)
        try:
            return json.loads(resp.read() or b"null")
        finally:
            resp.close()

    def lines(self, method: str, path: str, body: dict | None = None) -> Iterator[dict]:
        """A newline-delimited JSON stream (progress events)."""
        resp = self._send(method, path, body)
        try:
            for raw in resp:
                if raw.strip():
                    yield json.loads(raw)
        finally:
            resp.close()

    def chat(self, body: dict) -> tuple[dict, Iterator[str]]:
        """Streamed chat completion: (hippo headers, text pieces)."""
        resp = self._send("POST", "/v1/chat/completions", {**body, "stream": True})
        meta = {"adapter": resp.getheader("X-Hippo-Adapter") or None,
                "adapter_facts": int(resp.getheader("X-Hippo-Adapter-Facts") or 0),
                "session": resp.getheader("X-Hippo-Session")}

        def pieces() -> Iterator[str]:
            try:
                for raw in resp:
                    line = raw.decode().strip()
                    if not line.startswith("data:"):
                        continue
                    data = line[5:].strip()
                    if data == "[DONE]":
                        return
                    delta = json.loads(data)["choices"][0]["delta"].get("content")
                    if delta:
                        yield delta
            finally:
                resp.close()

        return meta, pieces()
