"""The daemon's local HTTP API: a Starlette app (`create_app`) served by uvicorn (`make_server`).

Every route but `/health` needs `Authorization: Bearer <token>` (the token file in
`$AGENT_HOME/daemon/token`, mode 0600), so other local users cannot talk to the agent.

    GET  /health                     liveness (no token)
    GET  /v1/models                  OpenAI-compatible model list
    POST /v1/chat/completions        OpenAI-compatible chat, `"stream": true` for SSE; extra
                                     fields: session, retrieval (default true), remember (true)
    GET  /v1/hippo/status            model, adapter, counts, daemon state, jobs
    GET  /v1/hippo/adapter           the adapter the next answer uses (version, #facts)
    POST /v1/hippo/import            {"turns": [...]} → counts (like `agent import`);
                                     "progress": true streams NDJSON progress, then the report
    GET  /v1/hippo/facts[?status=S]  facts (like `agent facts --json`)
    POST /v1/hippo/forget            {"fact": ID|TEXT}, or erase turns: {"turns": [ID...]} /
                                     {"turns_containing": TEXT}
    GET  /v1/hippo/search?q=Q&k=K    nearest stored turns
    GET  /v1/hippo/recall?q=Q        what retrieval would put into the prompt
    POST /v1/hippo/consolidate       start (or join) a consolidation; NDJSON progress, then the report
    POST /v1/hippo/shutdown          stop the daemon

Why Starlette and not FastAPI: every body here is checked by hand on its raw bytes (a cap while
reading, UTF-8, nesting depth, lone surrogates, OpenAI's own messages), so FastAPI's pydantic
bodies, 422 errors and OpenAPI pages would all be bypassed or switched off; Starlette is the part
of FastAPI we use (routing, StreamingResponse, the thread pool), and it is already installed
(through `mcp`). uvicorn runs it with h11, the strict pure-Python HTTP/1.1 parser.

Blocking work never runs on the event loop: single calls go to the thread pool, and a stream
(chat tokens, import and consolidation progress) is produced by one thread of its own
(`ThreadStream`): the engine's lock belongs to the thread that took it, so a generation must
not hop between pool threads. When the client leaves, the stream's thread stops at its next
piece and releases the engine; a non-streamed chat stops too.

Hardening (local callers only, but any local program or web page may try):

- Host must name this server (localhost, 127.0.0.1, [::1], or the configured daemon.host):
  a web page that rebinds its DNS name to 127.0.0.1 still sends its own name → 403.
- Bodies are capped (MAX_BODY; MAX_IMPORT_BODY for import, which sends a whole history in one
  all-or-nothing request): a larger Content-Length → 413 before reading; a chunked body is
  counted while it is read → 413 (and the connection closes) once it passes the cap.
- h11 refuses malformed requests (a bad or conflicting Content-Length: 400) and the connection
  closes; those replies are error objects too. Headers over MAX_HEADER → 431 (h11 while they
  arrive, the guard once they are all in).
- JSON must be UTF-8, not nested past the recursion limit, and hold no lone surrogate ("\\ud800":
  valid JSON, but not storable as UTF-8 text) → 400.
- An error reply before the body was read leaves uvicorn to read and drop it, so the client
  reads the error and keep-alive goes on; a body over DRAIN_LIMIT, or of unknown length, closes
  the connection instead.
- Every error is `{"error": {"message", "type", "code"}}` (404 and 405 included); a failure of
  ours is logged with its traceback and answered 500 "internal error" only; after a stream has
  begun it can only cut the stream short (no `[DONE]`).
- The request log leaves query strings out (they carry what the user searched for).
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import json
import logging
import os
import re
import socket
import threading
import time
import uuid
from collections.abc import Callable

import anyio
import anyio.to_thread
import h11
import uvicorn
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route
from uvicorn.protocols.http.h11_impl import STATUS_PHRASES, H11Protocol

from agent import operations as ops
from config import UserError

log = logging.getLogger("hippo.server")
MODEL_ID = "hippo"
MAX_BODY = 8 * 2**20  # a chat request: long histories fit many times over
MAX_IMPORT_BODY = 64 * 2**20  # `agent import` sends the whole file at once (~200k turns)
DRAIN_LIMIT = 256 * 2**20  # an error reply lets uvicorn read and drop at most this much unread body
MAX_HEADER = 64 * 2**10  # request line + headers (http.server's line limit was 64 KiB too)
BACKLOG = 128  # the listen queue: a burst of 100 chats all get in (the old default 5 reset ~70)
THREADS = 128  # the thread pool for blocking calls (anyio's default 40 would queue status behind chats)
STREAM_QUEUE = 64  # pieces a stream's thread may run ahead of a slow reader
GRACE_S = 10  # at shutdown, in-flight requests (a consolidation's follower) get this long, then are cancelled
LOOPBACK_NAMES = {"localhost", "127.0.0.1", "::1"}
WILDCARD_HOSTS = {"", "0.0.0.0", "::"}
HOST_HEADER = re.compile(r"(?:\[([0-9a-f:.]+)\]|([a-z0-9.-]+))(?::[0-9]{1,5})?")
SURROGATE = re.compile("[\ud800-\udfff]")


class HttpError(Exception):
    def __init__(self, status: int, message: str, kind: str = "invalid_request_error",
                 code: str | None = None, headers: dict | None = None) -> None:
        super().__init__(message)
        self.status, self.message, self.kind, self.code, self.headers = status, message, kind, code, headers


class Json(JSONResponse):
    """JSON with whatever the daemon returns (dates, paths) as strings."""

    def render(self, content) -> bytes:
        return json.dumps(content, ensure_ascii=False, default=str).encode()


def error_response(status: int, message: str, kind: str = "invalid_request_error", code: str | None = None,
                   headers: dict | None = None) -> Response:
    return Json({"error": {"message": message, "type": kind, "code": code}}, status, headers)


# ---- checks (pure functions) ------------------------------------------------------------------
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


def parse_json(raw: bytes) -> dict:
    """A request body as a JSON object (empty: {})."""
    if not raw:
        return {}
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


def body_cap(path: str) -> int:
    return BODY_LIMITS.get(path, MAX_BODY)


async def read_json(request: Request) -> dict:
    """The request's JSON object, counted while it is read: a chunked body (no Content-Length)
    is kept up to the route's cap. Past it the rest is read and dropped, up to as much again, so
    the client has finished sending when the 413 comes (closing on unread data would reset the
    connection and lose the answer); a client that sends more than that is cut off. Parsing (up
    to 64 MiB for an import) runs off the event loop."""
    cap, chunks, n = body_cap(request.url.path), [], 0
    async for chunk in request.stream():
        n += len(chunk)
        if n <= cap:
            chunks.append(chunk)
        elif n > 2 * cap:
            break
    if n > cap:
        raise HttpError(413, f"request body over the {cap >> 20} MiB limit of {request.url.path}",
                        code="request_too_large", headers={"Connection": "close"})
    return await run_in_threadpool(parse_json, b"".join(chunks))


# ---- streams from a thread --------------------------------------------------------------------
class ClientGone(Exception):
    """Raised by `emit` in a stream's thread once nobody reads the stream any more."""


class ThreadBridge:
    """`work(emit)` runs in one thread of its own; what it emits comes out here, in order.

    One thread for the whole work: the engine's FairRLock is owned by the thread that took it,
    and Starlette's own sync-iterator streaming moves each `next()` to any pool thread. `close()`
    (the client left, shutdown) makes the thread's next `emit` raise ClientGone, so `work`'s own
    `finally` blocks (a generator's close: the engine lock) run in the thread that holds them.
    At most STREAM_QUEUE pieces wait for a slow reader.
    """

    def __init__(self, work: Callable[[Callable[[object], None]], None]) -> None:
        self.work = work
        self.loop = asyncio.get_running_loop()
        self.queue: asyncio.Queue = asyncio.Queue()
        self.space = threading.Semaphore(STREAM_QUEUE)
        self.gone = threading.Event()
        self.finished = False  # the work ran to its end and everything it emitted was taken
        self.thread: threading.Thread | None = None

    def _post(self, item) -> bool:
        try:
            self.loop.call_soon_threadsafe(self.queue.put_nowait, item)
            return True
        except RuntimeError:  # the event loop is closed
            self.gone.set()
            return False

    def emit(self, obj) -> None:
        while not self.space.acquire(timeout=0.2):
            if self.gone.is_set():
                raise ClientGone()
        if self.gone.is_set() or not self._post(("item", obj)):
            raise ClientGone()

    def _run(self) -> None:
        try:
            self.work(self.emit)
        except ClientGone:
            return
        except BaseException as e:  # handed to the reader, which logs it
            if self.gone.is_set() or not self._post(("error", e)):
                log.exception("a stream failed after its client left")
            return
        self._post(("end", None))

    def __aiter__(self) -> ThreadBridge:
        return self

    async def __anext__(self):
        if self.thread is None:
            self.thread = threading.Thread(target=self._run, name="hippo-stream", daemon=True)
            self.thread.start()
        kind, value = await self.queue.get()
        if kind == "item":
            self.space.release()
            return value
        if kind == "end":
            self.finished = True
            raise StopAsyncIteration
        raise value

    def close(self) -> None:
        self.gone.set()


class ThreadStream(StreamingResponse):
    """A StreamingResponse of a ThreadBridge; the bridge is closed however the response ends
    (Starlette cancels the response when the client disconnects)."""

    def __init__(self, work, media_type: str, headers: dict | None = None) -> None:
        self.bridge = ThreadBridge(work)
        super().__init__(self.bridge, media_type=media_type, headers={"Cache-Control": "no-cache", **(headers or {})})

    async def __call__(self, scope, receive, send) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            self.bridge.close()
        if not self.bridge.finished:
            log.info("client went away: %s %s", scope["method"], scope["path"])


async def collect(work, request: Request) -> list | None:
    """Everything `work` emits, or None when the client leaves first (the work then stops)."""
    bridge, out, failed = ThreadBridge(work), [], None
    try:
        async with anyio.create_task_group() as tg:
            async def watch() -> None:
                while (await request.receive())["type"] != "http.disconnect":
                    pass
                tg.cancel_scope.cancel()

            tg.start_soon(watch)
            try:
                async for item in bridge:
                    out.append(item)
            except Exception as e:  # noqa: BLE001 - raised below as it is, not in an ExceptionGroup
                failed = e
            tg.cancel_scope.cancel()
    finally:
        bridge.close()
    if failed is not None:
        raise failed
    if not bridge.finished:
        log.info("client went away: %s %s", request.method, request.url.path)
        return None
    return out


def ndjson(event: dict) -> bytes:
    return (json.dumps(event, default=str) + "\n").encode()


# ---- routes -----------------------------------------------------------------------------------
def _daemon(request: Request):
    return request.app.state.daemon


async def health(request: Request) -> Response:
    return Json({"ok": True, "pid": os.getpid()})


async def models(request: Request) -> Response:
    return Json({"object": "list", "data": [{"id": MODEL_ID, "object": "model", "owned_by": "hippo-agent"}]})


async def chat_completions(request: Request) -> Response:
    req = parse_chat(await read_json(request))
    daemon = _daemon(request)
    version, n_facts = await run_in_threadpool(daemon.adapter)
    headers = {"X-Hippo-Adapter": version or "", "X-Hippo-Adapter-Facts": str(n_facts),
               "X-Hippo-Session": req["session"]}
    cid, created = f"chatcmpl-{uuid.uuid4().hex[:24]}", int(time.time())
    pieces = daemon.chat(req["question"], req["history"], req["session"], req["retrieval"],
                         req["remember"], req["max_tokens"])  # a generator: nothing runs until the thread drives it

    if not req["stream"]:
        def answer(emit) -> None:
            with contextlib.closing(pieces):  # a client that left stops the generation
                for piece in pieces:
                    emit(piece)

        parts = await collect(answer, request)
        if parts is None:
            return Response(status_code=499)  # nobody reads it
        text = "".join(parts).strip()
        usage = await run_in_threadpool(daemon_usage, daemon, req["question"], text)
        return Json({
            "id": cid, "object": "chat.completion", "created": created, "model": MODEL_ID,
            "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}],
            "usage": usage, "hippo": {"adapter": version, "session": req["session"]}}, headers=headers)

    def sse(delta: dict, finish=None) -> bytes:
        obj = {"id": cid, "object": "chat.completion.chunk", "created": created, "model": MODEL_ID,
               "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}
        return f"data: {json.dumps(obj, ensure_ascii=False)}\n\n".encode()

    def stream(emit) -> None:
        with contextlib.closing(pieces):  # a client that left stops the generation (the turn is still remembered)
            emit(sse({"role": "assistant", "content": ""}))
            for piece in pieces:
                emit(sse({"content": piece}))
            emit(sse({}, "stop"))
            emit(b"data: [DONE]\n\n")

    return ThreadStream(stream, "text/event-stream", headers)


async def status(request: Request) -> Response:
    return Json(await run_in_threadpool(_daemon(request).status))


async def adapter(request: Request) -> Response:
    version, n_facts = await run_in_threadpool(_daemon(request).adapter)
    return Json({"adapter": version, "adapter_facts": n_facts})


async def import_turns(request: Request) -> Response:
    body, daemon = await read_json(request), _daemon(request)
    turns = body.get("turns")
    if not isinstance(turns, list):
        raise HttpError(400, "'turns' must be a list of turn objects")
    if not body.get("progress"):
        return Json(await run_in_threadpool(daemon.import_turns, turns))
    # NDJSON: progress events, then the report (or an error once the stream has begun)
    from memory import validate_turn

    def check() -> None:  # a bad turn is still a plain 400 before anything streams
        for n, t in enumerate(turns, 1):
            try:
                validate_turn(t)
            except ValueError as e:
                raise HttpError(400, f"turn {n}: {e}") from None

    await run_in_threadpool(check)

    def work(emit) -> None:
        def progress(stage: str, done: int, total: int) -> None:
            emit(ndjson({"event": "progress", "stage": stage, "done": done, "total": total}))

        try:
            emit(ndjson({"event": "report", "report": daemon.import_turns(turns, progress)}))
        except UserError as e:
            emit(ndjson({"event": "error", "message": str(e)}))

    return ThreadStream(work, "application/x-ndjson")


async def facts(request: Request) -> Response:
    wanted = request.query_params.getlist("status") or None
    return Json(await run_in_threadpool(ops.list_facts, _daemon(request).memory, wanted))


async def forget(request: Request) -> Response:
    body, memory = await read_json(request), _daemon(request).memory
    if "turns" in body or "turns_containing" in body:  # erase turns: by id, or every one containing a text
        ids, text = body.get("turns", []), body.get("turns_containing")
        if not isinstance(ids, list) or not all(type(i) is int for i in ids):
            raise HttpError(400, "'turns' must be a list of turn ids")
        if text is not None and (not isinstance(text, str) or not text.strip()):
            raise HttpError(400, "'turns_containing' must be a non-empty string")
        return Json(await run_in_threadpool(ops.erase_turns, memory, ids, text))
    fact = body.get("fact")
    if not isinstance(fact, str) or not fact.strip():
        raise HttpError(400, "'fact' must be a fact id or sentence")
    return Json(await run_in_threadpool(ops.forget, memory, fact))


async def search(request: Request) -> Response:
    q = request.query_params.get("q", "")
    try:
        k = int(request.query_params.get("k", "5"))
    except ValueError:
        raise HttpError(400, "k must be an integer") from None
    if not q.strip():
        raise HttpError(400, "q (the query) is required")
    return Json(await run_in_threadpool(ops.search, _daemon(request).memory, q, k))


async def recall(request: Request) -> Response:
    q = request.query_params.get("q", "")
    if not q.strip():
        raise HttpError(400, "q (the question) is required")
    return Json(await run_in_threadpool(ops.recall, _daemon(request).memory, q, request.query_params.get("session")))


async def consolidate(request: Request) -> Response:
    run = await run_in_threadpool(_daemon(request).begin_consolidation, "request", True)

    def work(emit) -> None:
        for event in run.follow():
            emit(ndjson(event))

    return ThreadStream(work, "application/x-ndjson")


async def shutdown(request: Request) -> Response:
    from starlette.background import BackgroundTask

    return Json({"ok": True, "message": "stopping"}, background=BackgroundTask(_daemon(request).request_stop))


def daemon_usage(daemon, prompt: str, completion: str) -> dict:
    """Token counts for the OpenAI `usage` field (question and answer only)."""
    try:
        p = len(daemon.engine.llm.tokenize(prompt.encode(), add_bos=False))
        c = len(daemon.engine.llm.tokenize(completion.encode(), add_bos=False))
    except Exception:  # noqa: BLE001 - engines without a tokenizer (tests)
        p = c = 0
    return {"prompt_tokens": p, "completion_tokens": c, "total_tokens": p + c}


BODY_LIMITS = {"/v1/hippo/import": MAX_IMPORT_BODY}
ROUTES = [
    ("GET", "/health", health),
    ("GET", "/v1/models", models),
    ("POST", "/v1/chat/completions", chat_completions),
    ("GET", "/v1/hippo/status", status),
    ("GET", "/v1/hippo/adapter", adapter),
    ("POST", "/v1/hippo/import", import_turns),
    ("GET", "/v1/hippo/facts", facts),
    ("POST", "/v1/hippo/forget", forget),
    ("GET", "/v1/hippo/search", search),
    ("GET", "/v1/hippo/recall", recall),
    ("POST", "/v1/hippo/consolidate", consolidate),
    ("POST", "/v1/hippo/shutdown", shutdown),
]


# ---- the app: guard middleware and error objects ----------------------------------------------
class Guard:
    """Outermost (pure ASGI, so streams pass untouched): the request log (no query strings), the
    Host check, the token, the Content-Length cap, and the last word on failures."""

    def __init__(self, app, daemon) -> None:
        self.app, self.daemon = app, daemon

    def refusal(self, scope) -> Response | None:
        headers = Headers(scope=scope)
        hosts = headers.getlist("host")
        if sum(len(k) + len(v) + 4 for k, v in scope["headers"]) > MAX_HEADER:  # h11 only limits what arrives in pieces
            refusal = error_response(431, f"request headers over {MAX_HEADER >> 10} KiB",
                                     code="request_headers_too_large", headers={"Connection": "close"})
        elif len(hosts) != 1 or not host_allowed(hosts[0], self.daemon.settings.daemon.host):
            refusal = error_response(403, f"Host {hosts[0] if hosts else None!r} is not this server (use 127.0.0.1)",
                                     "permission_error", "host_not_allowed")
        elif scope["path"] == "/health":
            return None
        elif not _authorised(headers.get("authorization", ""), self.daemon.token):
            refusal = error_response(401, "missing or wrong token (see $AGENT_HOME/daemon/token)",
                                     "authentication_error", "invalid_api_key")
        else:
            declared, cap = _declared(headers), body_cap(scope["path"])
            if declared <= cap:
                return None
            refusal = error_response(413, f"request body of {declared} bytes is over the {cap >> 20} MiB limit of "
                                     f"{scope['path']}", code="request_too_large")
        # uvicorn reads and drops the body we leave unread, so keep-alive goes on, unless it is too long
        # to drain or of unknown length (chunked): then the connection closes after the reply
        if "transfer-encoding" in headers or _declared(headers) > DRAIN_LIMIT:
            refusal.headers["Connection"] = "close"
        return refusal

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        method, path = scope["method"], scope["path"]
        started = False

        async def send_logged(message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                client = (scope.get("client") or ("-",))[0]
                query = "?…" if scope.get("query_string") else ""
                log.info('%s "%s %s%s HTTP/%s" %d', client, method, path, query, scope["http_version"],
                         message["status"])
            await send(message)

        try:
            refusal = self.refusal(scope)
            await (refusal or self.app)(scope, receive, send_logged)
        except ClientDisconnect:
            log.info("client went away: %s %s", method, path)
        except UserError as e:  # mid-stream (before it, the exception handler made it a 400)
            if not started:
                return await error_response(400, str(e))(scope, receive, send_logged)
            log.warning("%s %s: %s after the reply started: closing the connection", method, path, e)
        except Exception:  # report, keep serving
            if started:  # mid-stream: all we can do is cut it short (uvicorn closes the connection)
                log.exception("%s %s failed after the reply started: closing the connection", method, path)
                return
            log.exception("%s %s failed", method, path)
            await error_response(500, "internal error", "server_error")(scope, receive, send_logged)


def _declared(headers: Headers) -> int:
    """The Content-Length (h11 has refused any that is not one non-negative integer)."""
    value = headers.get("content-length", "0").strip()
    return int(value) if value.isascii() and value.isdigit() else 0


def _authorised(header: str, token: str) -> bool:
    return header.startswith("Bearer ") and hmac.compare_digest(header[7:].strip().encode(), token.encode())


async def on_http_error(request: Request, e: HttpError) -> Response:
    return error_response(e.status, e.message, e.kind, e.code, e.headers)


async def on_user_error(request: Request, e: UserError) -> Response:
    return error_response(400, str(e))


async def on_framework_error(request: Request, e: HTTPException) -> Response:
    """Starlette's own (the router's 404 and 405) as error objects."""
    if e.status_code == 404:
        return error_response(404, f"no such endpoint: {request.method} {request.url.path}", "not_found_error",
                              "unknown_url")
    if e.status_code == 405:
        return error_response(405, f"{request.method} is not allowed on {request.url.path}", code="method_not_allowed",
                              headers=e.headers)
    return error_response(e.status_code, str(e.detail), headers=e.headers)


def create_app(daemon) -> Starlette:
    """The API of `daemon` as an ASGI app."""
    @contextlib.asynccontextmanager
    async def lifespan(app):
        anyio.to_thread.current_default_thread_limiter().total_tokens = THREADS
        yield

    app = Starlette(
        routes=[Route(path, endpoint, methods=[method]) for method, path, endpoint in ROUTES],
        middleware=[Middleware(Guard, daemon=daemon)],
        exception_handlers={HttpError: on_http_error, UserError: on_user_error, HTTPException: on_framework_error},
        lifespan=lifespan)
    app.state.daemon = daemon
    return app


# ---- uvicorn ----------------------------------------------------------------------------------
class Protocol(H11Protocol):
    """uvicorn's h11 protocol; the requests h11 refuses (bad Content-Length, headers too long) get
    an error object with h11's status (400, 431, 501) instead of a plain-text 400."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.refused: h11.RemoteProtocolError | None = None
        next_event = self.conn.next_event

        def checked_next_event():
            try:
                return next_event()
            except h11.RemoteProtocolError as e:
                self.refused = e
                raise

        self.conn.next_event = checked_next_event

    def send_400_response(self, msg: str) -> None:
        e = self.refused
        status = e.error_status_hint if e is not None and e.error_status_hint in STATUS_PHRASES else 400
        reason = str(e) if e is not None else msg
        code = ("invalid_content_length" if "content-length" in reason.lower() else
                "request_headers_too_large" if status == 431 else "invalid_http")
        body = json.dumps({"error": {"message": f"malformed HTTP request: {reason}", "type": "invalid_request_error",
                                     "code": code}}).encode()
        headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                   (b"connection", b"close")]
        for event in (h11.Response(status_code=status, headers=headers, reason=STATUS_PHRASES[status]),
                      h11.Data(data=body), h11.EndOfMessage()):
            self.transport.write(self.conn.send(event))
        self.transport.close()


class _Uvicorn(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self):
        yield  # the daemon handles SIGTERM/SIGINT itself (request_stop)


class ApiServer:
    """The bound socket and the uvicorn server that will serve it. `serve()` blocks until `stop()`."""

    def __init__(self, daemon, sock: socket.socket) -> None:
        self.sock = sock
        self.port = sock.getsockname()[1]
        config = uvicorn.Config(
            create_app(daemon), http=Protocol, ws="none", loop="asyncio", lifespan="on", log_config=None,
            access_log=False, proxy_headers=False, server_header=False, headers=[("server", "hippo-agent")],
            backlog=BACKLOG, h11_max_incomplete_event_size=MAX_HEADER, timeout_graceful_shutdown=GRACE_S)
        self.uvicorn = _Uvicorn(config)

    def serve(self) -> None:
        self.uvicorn.run(sockets=[self.sock])

    def stop(self) -> None:
        """Ask `serve()` to return (any thread; it finishes in-flight requests for up to GRACE_S)."""
        self.uvicorn.should_exit = True

    def close(self) -> None:
        self.sock.close()


def make_server(daemon) -> ApiServer:
    """Bind the API for `daemon` on its configured host and port (0: any free port)."""
    d = daemon.settings.daemon
    try:
        family = socket.getaddrinfo(d.host or None, d.port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)[0][0]
        sock = socket.create_server((d.host, d.port), family=family, backlog=BACKLOG)
    except OSError as e:
        raise UserError(f"cannot listen on {d.host}:{d.port} ({e.strerror or e}); set daemon.port "
                        "(AGENT_DAEMON__PORT) to a free port") from None
    if d.host not in LOOPBACK_NAMES:
        log.warning("listening on %s: reachable from other machines (token still required)", d.host)
    return ApiServer(daemon, sock)
