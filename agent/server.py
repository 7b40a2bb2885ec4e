"""The daemon's local HTTP API (standard library `http.server`, one thread per request).

Every route but `/health` needs `Authorization: Bearer <token>` (the token file in
`$AGENT_HOME/daemon/token`, mode 0600), so other local users cannot talk to the agent.

    GET  /health                     liveness (no token)
    GET  /v1/models                  OpenAI-compatible model list
    POST /v1/chat/completions        OpenAI-compatible chat, `"stream": true` for SSE; extra
                                     fields: session, retrieval (default true), remember (true)
    GET  /v1/hippo/status            model, adapter, counts, daemon state, jobs
    GET  /v1/hippo/adapter           the adapter the next answer uses (version, #facts)
    POST /v1/hippo/import            {"turns": [...]} → counts (like `agent import`)
    GET  /v1/hippo/facts[?status=S]  facts (like `agent facts --json`)
    POST /v1/hippo/forget            {"fact": ID|TEXT}, or erase turns: {"turns": [ID...]} /
                                     {"turns_containing": TEXT}
    GET  /v1/hippo/search?q=Q&k=K    nearest stored turns
    GET  /v1/hippo/recall?q=Q        what retrieval would put into the prompt
    POST /v1/hippo/consolidate       start (or join) a consolidation; NDJSON progress, then the report
    POST /v1/hippo/shutdown          stop the daemon

Hardening (local callers only, but any local program or web page may try):

- Host must name this server (localhost, 127.0.0.1, [::1], or the configured daemon.host):
  a web page that rebinds its DNS name to 127.0.0.1 still sends its own name → 403.
- Bodies are capped (MAX_BODY; MAX_IMPORT_BODY for import, which sends a whole history in one
  all-or-nothing request) → 413 before reading them. Content-Length must be a plain integer
  (else 400); no Content-Length means no body (HTTP/1.1); chunked request bodies → 411.
- JSON must be UTF-8, not nested past the recursion limit, and hold no lone surrogate ("\\ud800":
  valid JSON, but not storable as UTF-8 text) → 400.
- An error reply first drains the unread body (up to DRAIN_LIMIT), so the client reads the
  error instead of a reset and keep-alive goes on; a body we cannot delimit closes the connection.
- Every error is `{"error": {"message", "type", "code"}}`; a failure of ours is logged with its
  traceback and answered 500 "internal error" only.
"""

from __future__ import annotations

import hmac
import json
import logging
import os
import re
import time
import uuid
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

from agent import operations as ops
from config import UserError

log = logging.getLogger("hippo.server")
MODEL_ID = "hippo"
_QUERY = re.compile(r"\?[^\s\"]*")
MAX_BODY = 8 * 2**20  # a chat request: long histories fit many times over
MAX_IMPORT_BODY = 64 * 2**20  # `agent import` sends the whole file at once (~200k turns)
DRAIN_LIMIT = 256 * 2**20  # an error reply reads and drops at most this much unread body
LOOPBACK_NAMES = {"localhost", "127.0.0.1", "::1"}
WILDCARD_HOSTS = {"", "0.0.0.0", "::"}
HOST_HEADER = re.compile(r"(?:\[([0-9a-f:.]+)\]|([a-z0-9.-]+))(?::[0-9]{1,5})?")
SURROGATE = re.compile("[\ud800-\udfff]")


class HttpError(Exception):
    def __init__(self, status: int, message: str, kind: str = "invalid_request_error",
                 code: str | None = None) -> None:
        super().__init__(message)
        self.status, self.message, self.kind, self.code = status, message, kind, code


class Server(ThreadingHTTPServer):
    """One thread per connection, and a listen backlog for bursts (the default 5 reset clients)."""

    request_queue_size = 128
    daemon_threads = True


def make_server(daemon) -> Server:
    """Bind the API for `daemon` on its configured host and port (0: any free port)."""
    d = daemon.settings.daemon
    handler = type("Handler", (Handler,), {"daemon": daemon})
    try:
        server = Server((d.host, d.port), handler)
    except OSError as e:
        raise UserError(f"cannot listen on {d.host}:{d.port} ({e.strerror or e}); set daemon.port "
                        "(AGENT_DAEMON__PORT) to a free port") from None
    if d.host not in LOOPBACK_NAMES:
        log.warning("listening on %s: reachable from other machines (token still required)", d.host)
    return server


def host_allowed(header: str | None, listen_host: str) -> bool:
    """Does the Host header name this server? Loopback names (any case, any port) and the
    configured host; any name when listening on all interfaces."""
    if listen_host in WILDCARD_HOSTS:
        return True
    m = HOST_HEADER.fullmatch((header or "").strip().lower())
    return m is not None and (m[1] or m[2]) in LOOPBACK_NAMES | {listen_host.lower().strip("[]")}


def has_lone_surrogate(obj) -> bool:
    """Does any string (key or value) hold a lone surrogate? JSON's "\\ud800" parses to one,
    and it cannot be encoded as UTF-8 (SQLite, Chroma, the model). Iterative: depth is not bounded here."""
    stack = [obj]
    while stack:
        o = stack.pop()
        if isinstance(o, str) and SURROGATE.search(o):
            return True
        if isinstance(o, dict):
            stack.extend(o)
            stack.extend(o.values())
        elif isinstance(o, list):
            stack.extend(o)
    return False


def text_of(content) -> str:
    """OpenAI message content: a string or a list of parts ({"type": "text", "text": ...})."""
    if isinstance(content, str):
        return content
    if isinstance(content, list) and all(isinstance(p, dict) for p in content):
        texts = [p.get("text") for p in content if p.get("type") == "text"]
        if all(isinstance(t, str) for t in texts):
            return "".join(texts)
    raise HttpError(400, 'message content must be a string or a list of text parts ({"type": "text", "text": "..."})')


def parse_chat(body: dict) -> dict:
    """The question, history and hippo options of a chat-completions request."""
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        raise HttpError(400, "'messages' must be a non-empty list")
    turns = []
    for m in messages:
        if not isinstance(m, dict) or m.get("role") not in ("system", "developer", "user", "assistant"):
            raise HttpError(400, "each message needs a role: system, user or assistant")
        if m["role"] in ("user", "assistant"):
            turns.append((m["role"], text_of(m.get("content", ""))))
    if not turns or turns[-1][0] != "user" or not turns[-1][1].strip():
        raise HttpError(400, "the last message must be a non-empty user message")
    max_tokens = body.get("max_completion_tokens") or body.get("max_tokens")
    if max_tokens is not None and (type(max_tokens) is not int or max_tokens < 1):
        raise HttpError(400, "max_tokens must be a positive integer")
    session = body.get("session") or body.get("user") or time.strftime("api-%Y%m%d")
    if not isinstance(session, str):
        raise HttpError(400, "session (or user) must be a string")
    return {"question": turns[-1][1].strip(), "history": turns[:-1], "session": session,
            "retrieval": bool(body.get("retrieval", True)), "remember": bool(body.get("remember", True)),
            "max_tokens": max_tokens, "stream": bool(body.get("stream", False))}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "hippo-agent"
    daemon = None  # set by make_server
    _unread = 0  # body bytes the client sent that we have not read yet
    _replied = False  # a status line went out (a later failure can only cut the reply short)

    # ---- plumbing -------------------------------------------------------------------------
    def log_message(self, fmt, *args) -> None:
        # query strings are left out: they carry what the user searched for (`?q=my PIN…`)
        log.info("%s %s", self.address_string(), _QUERY.sub("?…", fmt % args))

    def _content_length(self) -> int:
        """The declared body size. A body we cannot delimit is refused and the connection closed."""
        if self.headers.get("Transfer-Encoding"):
            self.close_connection = True
            raise HttpError(411, "chunked request bodies are not supported: send Content-Length",
                            code="length_required")
        values = {v.strip() for v in self.headers.get_all("Content-Length", ["0"])}
        value = values.pop() if len(values) == 1 else ""
        if not (value.isascii() and value.isdigit()):
            self.close_connection = True
            raise HttpError(400, "Content-Length must be one non-negative integer", code="invalid_content_length")
        return int(value)

    def _discard_body(self) -> None:
        """Read and drop the unread body, so the client gets our reply instead of a reset."""
        n, self._unread = self._unread, 0
        if n > DRAIN_LIMIT:
            self.close_connection = True
            return
        try:
            while n > 0:
                chunk = self.rfile.read(min(n, 2**16))
                if not chunk:
                    break
                n -= len(chunk)
        except OSError:
            self.close_connection = True

    def _body(self) -> dict:
        """The request's JSON object (its size already checked against the route's cap)."""
        n, self._unread = self._unread, 0
        if not n:
            return {}
        raw = self.rfile.read(n)
        if len(raw) < n:
            raise ConnectionResetError("the client sent less than its Content-Length")
        try:
            body = json.loads(raw.decode("utf-8"))
        except UnicodeDecodeError:
            raise HttpError(400, "the request body is not valid UTF-8", code="invalid_encoding") from None
        except RecursionError:
            raise HttpError(400, "the request body is nested too deeply", code="invalid_json") from None
        except ValueError:
            raise HttpError(400, "the request body is not valid JSON", code="invalid_json") from None
        if not isinstance(body, dict):
            raise HttpError(400, "the request body must be a JSON object", code="invalid_json")
        if has_lone_surrogate(body):
            raise HttpError(400, "the request holds a lone surrogate (like \\ud800): not valid text, cannot "
                            "be stored", code="invalid_text")
        return body

    def _send_json(self, obj, status: int = 200, headers: dict | None = None) -> None:
        data = json.dumps(obj, ensure_ascii=False, default=str).encode()
        self._replied = True
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(data)

    def _send_error(self, e: HttpError) -> None:
        if self._replied:  # mid-reply (a stream): all we can do is cut it short
            log.warning("%s after the reply started: closing the connection", e.message)
            self.close_connection = True
            return
        self._discard_body()
        try:
            self._send_json({"error": {"message": e.message, "type": e.kind, "code": e.code}}, e.status)
        except ConnectionError:  # the client left: nobody to tell
            self.close_connection = True

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """http.server's own errors (bad request line, header too long, unknown method) as JSON."""
        self.close_connection, self._replied = True, False  # before our dispatch: nothing went out yet
        self._send_error(HttpError(code, message or HTTPStatus(code).phrase))

    def _start_chunked(self, content_type: str, headers: dict | None = None) -> None:
        self._replied = True
        self.send_response(200)
        self.send_header("Content-Type", content_type)
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Transfer-Encoding", "chunked")
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()

    def _chunk(self, data: bytes) -> None:
        self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
        self.wfile.flush()

    def _end_chunked(self) -> None:
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()

    def _authorised(self) -> bool:
        got = self.headers.get("Authorization", "")
        return got.startswith("Bearer ") and hmac.compare_digest(got[7:].strip(), self.daemon.token)

    def _dispatch(self, method: str) -> None:
        url = urlparse(self.path)
        query = parse_qs(url.query)
        self._unread, self._replied = 0, False
        try:
            self._unread = self._content_length()
            if not host_allowed(self.headers.get("Host"), self.daemon.settings.daemon.host):
                raise HttpError(403, f"Host {self.headers.get('Host')!r} is not this server (use 127.0.0.1)",
                                "permission_error", "host_not_allowed")
            if url.path == "/health":
                return self._send_json({"ok": True, "pid": os.getpid()})
            if not self._authorised():
                raise HttpError(401, "missing or wrong token (see $AGENT_HOME/daemon/token)",
                                "authentication_error", "invalid_api_key")
            route = ROUTES.get((method, url.path))
            if route is None:
                raise HttpError(404, f"no such endpoint: {method} {url.path}", "not_found_error", "unknown_url")
            cap = BODY_LIMITS.get(url.path, MAX_BODY)
            if self._unread > cap:
                raise HttpError(413, f"request body of {self._unread} bytes is over the {cap >> 20} MiB limit of "
                                f"{url.path}", code="request_too_large")
            body = self._body() if method == "POST" else {}
            route(self, body, query)
        except HttpError as e:
            self._send_error(e)
        except UserError as e:
            self._send_error(HttpError(400, str(e)))
        except ConnectionError:
            log.info("client went away: %s %s", method, url.path)
            self.close_connection = True
        except Exception:  # noqa: BLE001 - report, keep serving
            log.exception("%s %s failed", method, url.path)
            self._send_error(HttpError(500, "internal error", "server_error"))
        finally:
            self._discard_body()

    def do_GET(self) -> None:  # noqa: N802
        self._dispatch("GET")

    def do_POST(self) -> None:  # noqa: N802
        self._dispatch("POST")

    # ---- routes ---------------------------------------------------------------------------
    def models(self, body, query) -> None:
        self._send_json({"object": "list", "data": [{"id": MODEL_ID, "object": "model", "owned_by": "hippo-agent"}]})

    def chat_completions(self, body, query) -> None:
        req = parse_chat(body)
        daemon = self.daemon
        version, n_facts = daemon.adapter()
        headers = {"X-Hippo-Adapter": version or "", "X-Hippo-Adapter-Facts": str(n_facts),
                   "X-Hippo-Session": req["session"]}
        cid, created = f"chatcmpl-{uuid.uuid4().hex[:24]}", int(time.time())
        pieces = daemon.chat(req["question"], req["history"], req["session"], req["retrieval"],
                             req["remember"], req["max_tokens"])
        if not req["stream"]:
            text = "".join(pieces).strip()
            return self._send_json({
                "id": cid, "object": "chat.completion", "created": created, "model": MODEL_ID,
                "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}],
                "usage": daemon_usage(daemon, req["question"], text),
                "hippo": {"adapter": version, "session": req["session"]}}, headers=headers)

        def chunk(delta: dict, finish=None) -> bytes:
            obj = {"id": cid, "object": "chat.completion.chunk", "created": created, "model": MODEL_ID,
                   "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}
            return f"data: {json.dumps(obj, ensure_ascii=False)}\n\n".encode()

        self._start_chunked("text/event-stream", headers)
        try:
            self._chunk(chunk({"role": "assistant", "content": ""}))
            for piece in pieces:
                self._chunk(chunk({"content": piece}))
            self._chunk(chunk({}, "stop"))
            self._chunk(b"data: [DONE]\n\n")
            self._end_chunked()
        finally:
            pieces.close()  # a client that left stops the generation (and the turn is still remembered)

    def status(self, body, query) -> None:
        self._send_json(self.daemon.status())

    def adapter(self, body, query) -> None:
        version, n_facts = self.daemon.adapter()
        self._send_json({"adapter": version, "adapter_facts": n_facts})

    def import_turns(self, body, query) -> None:
        turns = body.get("turns")
        if not isinstance(turns, list):
            raise HttpError(400, "'turns' must be a list of turn objects")
        if not body.get("progress"):
            self._send_json(self.daemon.import_turns(turns))
            return
        # NDJSON: progress events, then the report (or an error once the stream has begun)
        from memory import validate_turn

        for n, t in enumerate(turns, 1):  # a bad turn is still a plain 400 before anything streams
            try:
                validate_turn(t)
            except ValueError as e:
                raise HttpError(400, f"turn {n}: {e}") from None
        self._start_chunked("application/x-ndjson")

        def send(event: dict) -> None:
            self._chunk((json.dumps(event) + "\n").encode())

        try:
            report = self.daemon.import_turns(
                turns, lambda stage, done, total: send({"event": "progress", "stage": stage, "done": done, "total": total}))
            send({"event": "report", "report": report})
        except UserError as e:
            send({"event": "error", "message": str(e)})
        self._end_chunked()

    def facts(self, body, query) -> None:
        self._send_json(ops.list_facts(self.daemon.memory, query.get("status")))

    def forget(self, body, query) -> None:
        if "turns" in body or "turns_containing" in body:  # erase turns: by id, or every one containing a text
            ids, text = body.get("turns", []), body.get("turns_containing")
            if not isinstance(ids, list) or not all(type(i) is int for i in ids):
                raise HttpError(400, "'turns' must be a list of turn ids")
            if text is not None and (not isinstance(text, str) or not text.strip()):
                raise HttpError(400, "'turns_containing' must be a non-empty string")
            self._send_json(ops.erase_turns(self.daemon.memory, ids, text))
            return
        fact = body.get("fact")
        if not isinstance(fact, str) or not fact.strip():
            raise HttpError(400, "'fact' must be a fact id or sentence")
        self._send_json(ops.forget(self.daemon.memory, fact))

    def search(self, body, query) -> None:
        q = (query.get("q") or [""])[0]
        try:
            k = int((query.get("k") or ["5"])[0])
        except ValueError:
            raise HttpError(400, "k must be an integer") from None
        if not q.strip():
            raise HttpError(400, "q (the query) is required")
        self._send_json(ops.search(self.daemon.memory, q, k))

    def recall(self, body, query) -> None:
        q = (query.get("q") or [""])[0]
        if not q.strip():
            raise HttpError(400, "q (the question) is required")
        self._send_json(ops.recall(self.daemon.memory, q, (query.get("session") or [None])[0]))

    def consolidate(self, body, query) -> None:
        run = self.daemon.begin_consolidation("request", force=True)
        self._start_chunked("application/x-ndjson")
        for event in run.follow():
            self._chunk((json.dumps(event, default=str) + "\n").encode())
        self._end_chunked()

    def shutdown(self, body, query) -> None:
        self._send_json({"ok": True, "message": "stopping"})
        self.daemon.request_stop()


def daemon_usage(daemon, prompt: str, completion: str) -> dict:
    """Token counts for the OpenAI `usage` field (question and answer only)."""
    try:
        p = len(daemon.engine.llm.tokenize(prompt.encode(), add_bos=False))
        c = len(daemon.engine.llm.tokenize(completion.encode(), add_bos=False))
    except Exception:  # noqa: BLE001 - engines without a tokenizer (tests)
        p = c = 0
    return {"prompt_tokens": p, "completion_tokens": c, "total_tokens": p + c}


BODY_LIMITS = {"/v1/hippo/import": MAX_IMPORT_BODY}
ROUTES = {
    ("GET", "/v1/models"): Handler.models,
    ("POST", "/v1/chat/completions"): Handler.chat_completions,
    ("GET", "/v1/hippo/status"): Handler.status,
    ("GET", "/v1/hippo/adapter"): Handler.adapter,
    ("POST", "/v1/hippo/import"): Handler.import_turns,
    ("GET", "/v1/hippo/facts"): Handler.facts,
    ("POST", "/v1/hippo/forget"): Handler.forget,
    ("GET", "/v1/hippo/search"): Handler.search,
    ("GET", "/v1/hippo/recall"): Handler.recall,
    ("POST", "/v1/hippo/consolidate"): Handler.consolidate,
    ("POST", "/v1/hippo/shutdown"): Handler.shutdown,
}
