"""The daemon's HTTP API under hostile or clumsy clients (fast: the FakeEngine, in-process daemon).

Each test fails if its defence in agent/server.py is removed: the listen backlog, body caps,
Content-Length checks, body validation, the Host check, draining on errors, error objects,
and clients that leave mid-stream.
"""

from __future__ import annotations

import http.client
import json
import logging
import socket
import threading
import time

import pytest

from agent import server

CHAT = "/v1/chat/completions"


def chat_body(content="hi", **extra) -> bytes:
    return json.dumps({"messages": [{"role": "user", "content": content}], **extra}).encode()


def send(daemon, method: str, path: str, body: bytes = b"", headers: dict | None = None,
         conn: http.client.HTTPConnection | None = None) -> tuple[int, http.client.HTTPResponse, bytes]:
    """One request with the daemon's token (unless headers override it): status, response, body."""
    conn = conn or http.client.HTTPConnection("127.0.0.1", daemon.port, timeout=60)
    conn.request(method, path, body=body, headers={"Authorization": f"Bearer {daemon.token}", **(headers or {})})
    resp = conn.getresponse()
    return resp.status, resp, resp.read()


def raw_exchange(daemon, request: bytes) -> bytes:
    """Send bytes as they are; the server's reply up to the close."""
    with socket.create_connection(("127.0.0.1", daemon.port), timeout=30) as s:
        s.sendall(request)
        out = b""
        while chunk := s.recv(65536):
            out += chunk
    return out


def error_of(status: int, raw: bytes, expected: int) -> dict:
    """The OpenAI-style error object of a reply (and no traceback anywhere)."""
    assert status == expected, raw[:300]
    assert b"Traceback" not in raw
    err = json.loads(raw)["error"]
    assert set(err) == {"message", "type", "code"} and err["message"] and err["type"]
    return err


# ---- 1. listen backlog ----------------------------------------------------------------------
def test_a_burst_of_100_concurrent_chats_is_all_answered(daemon):
    """With http.server's default backlog (5) about 70 of these got ECONNRESET."""
    n, results = 100, []
    start = threading.Barrier(n)

    def one(i: int) -> None:
        start.wait()
        try:
            status, _, raw = send(daemon, "POST", CHAT, chat_body(f"question {i}"))
            results.append((status, json.loads(raw)["choices"][0]["message"]["content"]))
        except OSError as e:
            results.append((repr(e), None))

    threads = [threading.Thread(target=one, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert sorted(results) == sorted((200, f"echo: question {i}") for i in range(n))


# ---- 2. body size cap -----------------------------------------------------------------------
def test_an_oversized_body_is_refused_unread_and_the_connection_goes_on(daemon, monkeypatch):
    parsed = []
    read_json = server.read_json
    monkeypatch.setattr(server, "read_json", lambda request: parsed.append(1) or read_json(request))
    conn = http.client.HTTPConnection("127.0.0.1", daemon.port, timeout=60)
    status, _, raw = send(daemon, "POST", CHAT, chat_body("x" * (server.MAX_BODY + 1)), conn=conn)
    assert error_of(status, raw, 413)["code"] == "request_too_large"
    assert parsed == []  # refused from Content-Length alone, never parsed
    sock = conn.sock
    status, _, raw = send(daemon, "POST", CHAT, chat_body("after"), conn=conn)
    assert status == 200 and conn.sock is sock  # the big body was drained: same connection


def test_import_takes_bodies_over_the_chat_limit(daemon):
    """`agent import` sends a whole history in one request: its cap is MAX_IMPORT_BODY."""
    body = json.dumps({"turns": "x" * (server.MAX_BODY + 1)}).encode()
    status, _, raw = send(daemon, "POST", "/v1/hippo/import", body)
    assert "'turns' must be a list" in error_of(status, raw, 400)["message"]  # read, not refused


# ---- 3. Content-Length ----------------------------------------------------------------------
def test_a_bad_content_length_is_a_400_and_closes(daemon):
    for value in ("abc", "-1", "1e3", " ", "0x10", "²"):
        status, resp, raw = send(daemon, "POST", CHAT, b"{}", headers={"Content-Length": value})
        assert error_of(status, raw, 400)["code"] == "invalid_content_length", value
        assert resp.getheader("Connection") == "close"  # the body's end is unknown


def test_conflicting_content_lengths_are_a_400(daemon):
    reply = raw_exchange(daemon, b"POST /v1/hippo/forget HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 2\r\n"
                                 b"Content-Length: 20\r\n\r\n{}")
    assert reply.startswith(b"HTTP/1.1 400") and b'"invalid_content_length"' in reply


def test_a_chunked_request_body_is_read_up_to_the_cap(daemon, monkeypatch):
    """h11 decodes chunked bodies (http.server could not: that was a 411); the cap is counted while
    reading, and an oversized one closes the connection (the rest of its length is unknown)."""
    def send_chunked(body: bytes) -> tuple[int, http.client.HTTPResponse, bytes]:
        conn = http.client.HTTPConnection("127.0.0.1", daemon.port, timeout=60)
        conn.request("POST", CHAT, body=iter([body[i:i + 4096] for i in range(0, len(body), 4096)]),
                     headers={"Authorization": f"Bearer {daemon.token}"}, encode_chunked=True)
        resp = conn.getresponse()
        return resp.status, resp, resp.read()

    status, _, raw = send_chunked(chat_body("chunked"))
    assert status == 200 and json.loads(raw)["choices"][0]["message"]["content"] == "echo: chunked"
    monkeypatch.setattr(server, "MAX_BODY", 2**16)
    status, resp, raw = send_chunked(chat_body("z" * 2**17))
    assert error_of(status, raw, 413)["code"] == "request_too_large"
    assert resp.getheader("Connection") == "close"


def test_no_content_length_means_an_empty_body(daemon):
    conn = http.client.HTTPConnection("127.0.0.1", daemon.port, timeout=30)
    conn.putrequest("POST", CHAT)
    conn.putheader("Authorization", f"Bearer {daemon.token}")
    conn.endheaders()
    resp = conn.getresponse()
    assert "'messages' must be a non-empty list" in error_of(resp.status, resp.read(), 400)["message"]


# ---- 4. body contents -----------------------------------------------------------------------
@pytest.mark.parametrize("body, message", [
    (chat_body([{"type": "text", "text": 5}]), "list of text parts"),
    (chat_body([{"type": "text", "text": "a"}, "b"]), "list of text parts"),
    (chat_body({"text": "hi"}), "list of text parts"),
    (chat_body("hi", session=["a"]), "session"),
    (chat_body("hi", max_tokens=True), "max_tokens"),
    (b'{"messages": ' + b"[" * 100_000 + b"]" * 100_000 + b"}", "nested too deeply"),
    (chat_body("lone \ud800 surrogate"), "lone surrogate"),
    (chat_body("hi", session="s\udfff"), "lone surrogate"),
    (b'{"messages": [{"role": "user", "content": "caf\xe9"}]}', "not valid UTF-8"),
    (b'{"messages": [', "not valid JSON"),
    (chat_body("hi").decode().encode("utf-16-le"), "not valid JSON"),
    (b"[1, 2]", "must be a JSON object"),
])
def test_malformed_chat_bodies_are_a_400(daemon, fake_engine, body, message):
    status, _, raw = send(daemon, "POST", CHAT, body)
    assert message in error_of(status, raw, 400)["message"]
    assert fake_engine.prompts == []


def test_lone_surrogates_are_refused_before_the_store(daemon):
    turn = {"session": "s", "role": "user", "content": "my name is \ud800"}
    status, _, raw = send(daemon, "POST", "/v1/hippo/import", json.dumps({"turns": [turn]}).encode())
    assert error_of(status, raw, 400)["code"] == "invalid_text"
    assert daemon.memory.turns("s") == []


def test_text_parts_and_surrogate_pairs_are_fine(daemon):
    parts = [{"type": "text", "text": "smile 😀"}, {"type": "image_url", "image_url": {"url": "x"}}]
    status, _, raw = send(daemon, "POST", CHAT, chat_body(parts))  # json.dumps escapes 😀 as a pair
    assert status == 200 and json.loads(raw)["choices"][0]["message"]["content"] == "echo: smile 😀"


# ---- 5. Host header (DNS rebinding) -----------------------------------------------------------
def test_loopback_host_names_are_served(daemon):
    for host in ("localhost", "LocalHost:8765", "127.0.0.1", "127.0.0.1:1", "[::1]", "[::1]:8765"):
        status, _, raw = send(daemon, "GET", "/v1/models", headers={"Host": host})
        assert status == 200, (host, raw)


def test_other_host_names_are_a_403(daemon):
    for host in ("evil.example", "evil.example:8765", "localhost.evil.example", "127.0.0.1.nip.io", "[::2]",
                 "localhost:80@evil.example", ""):
        for path in ("/health", "/v1/models"):  # before the token check, /health included
            status, _, raw = send(daemon, "GET", path, headers={"Host": host})
            assert error_of(status, raw, 403)["code"] == "host_not_allowed", host


def test_a_request_without_host_is_a_403(daemon):
    reply = raw_exchange(daemon, b"GET /health HTTP/1.0\r\n\r\n")
    assert reply.startswith(b"HTTP/1.1 403") and b'"host_not_allowed"' in reply


def test_a_configured_host_is_allowed_too():
    assert server.host_allowed("Hippo.LAN:8765", "hippo.lan")
    assert server.host_allowed("[fd00::5]:8765", "fd00::5")
    assert server.host_allowed("localhost", "hippo.lan")
    assert not server.host_allowed("evil.example", "hippo.lan")
    assert server.host_allowed("anything", "0.0.0.0")  # all interfaces: any name reaches it


# ---- 6. draining on 401 ---------------------------------------------------------------------
def test_a_401_drains_the_body_and_keeps_the_connection(daemon):
    conn = http.client.HTTPConnection("127.0.0.1", daemon.port, timeout=60)
    status, resp, raw = send(daemon, "POST", CHAT, chat_body("y" * 4 * 2**20),  # more than socket buffers
                             headers={"Authorization": "Bearer wrong"}, conn=conn)
    assert error_of(status, raw, 401)["code"] == "invalid_api_key"
    assert resp.getheader("Connection") != "close"
    sock = conn.sock
    status, _, _ = send(daemon, "GET", "/v1/models", conn=conn)
    assert status == 200 and conn.sock is sock


# ---- 7. error objects, internal errors --------------------------------------------------------
def test_internal_errors_are_logged_with_traceback_and_answered_plainly(daemon, monkeypatch, caplog):
    def broken():
        raise RuntimeError("secret detail /home/someone/db")

    monkeypatch.setattr(daemon, "status", broken)
    with caplog.at_level(logging.ERROR, logger="hippo.server"):
        status, _, raw = send(daemon, "GET", "/v1/hippo/status")
    assert error_of(status, raw, 500) == {"message": "internal error", "type": "server_error", "code": None}
    assert b"secret" not in raw
    record = next(r for r in caplog.records if r.name == "hippo.server" and r.exc_info)
    assert "secret detail" in str(record.exc_info[1])
    assert send(daemon, "GET", "/v1/models")[0] == 200


def test_a_failure_mid_stream_cuts_the_stream_short(daemon, fake_engine, monkeypatch, caplog):
    def stream_answer(question, history=(), context=None, max_tokens=None):
        yield " half"
        raise RuntimeError("secret detail")

    monkeypatch.setattr(fake_engine, "stream_answer", stream_answer)
    body = chat_body("go", stream=True)
    with caplog.at_level(logging.ERROR, logger="hippo.server"):
        reply = raw_exchange(daemon, b"POST %s HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer %s\r\n"
                                     b"Content-Length: %d\r\n\r\n" % (CHAT.encode(), daemon.token.encode(), len(body))
                             + body)
    assert reply.startswith(b"HTTP/1.1 200") and b"half" in reply  # then closed: no [DONE], nothing else
    assert b"[DONE]" not in reply and b"error" not in reply and b"secret" not in reply
    assert any(r.exc_info for r in caplog.records if r.name == "hippo.server")


def test_http_server_errors_are_error_objects_too(daemon):
    reply = raw_exchange(daemon, b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Long: %s\r\n\r\n" % (b"a" * 70_000))
    head, _, body = reply.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 431")
    assert json.loads(body)["error"]["type"] == "invalid_request_error"


def test_unknown_endpoints_are_a_404_object(daemon):
    status, _, raw = send(daemon, "POST", "/v1/nothing", b"{}")
    assert error_of(status, raw, 404)["type"] == "not_found_error"


# ---- 8. client leaving mid-stream -------------------------------------------------------------
def test_a_client_leaving_mid_stream_frees_the_engine(daemon, fake_engine, monkeypatch, caplog):
    caplog.set_level(logging.INFO, logger="hippo.server")
    engine_lock, answer = threading.Lock(), fake_engine.stream_answer

    def stream_answer(question, history=(), context=None, max_tokens=None):
        with engine_lock:  # like Engine.stream_answer
            while question == "talk forever":
                time.sleep(0.001)
                yield " word"
            yield from answer(question, history, context, max_tokens)

    monkeypatch.setattr(fake_engine, "stream_answer", stream_answer)
    body = chat_body("talk forever", stream=True)
    with socket.create_connection(("127.0.0.1", daemon.port), timeout=30) as s:
        s.sendall(b"POST %s HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer %s\r\nContent-Length: %d\r\n\r\n"
                  % (CHAT.encode(), daemon.token.encode(), len(body)) + body)
        got = b""
        while b"word" not in got:
            got += s.recv(4096)
    assert engine_lock.acquire(timeout=10), "the engine stayed locked after the client left"
    engine_lock.release()
    status, _, raw = send(daemon, "POST", CHAT, chat_body("still there?"))
    assert status == 200 and json.loads(raw)["choices"][0]["message"]["content"] == "echo: still there?"
    deadline = time.time() + 10
    while not any("client went away" in r.getMessage() for r in caplog.records) and time.time() < deadline:
        time.sleep(0.05)
    assert any("client went away: POST" in r.getMessage() for r in caplog.records)  # handled, no traceback


def test_the_request_log_leaves_query_strings_out(daemon, caplog):
    import logging
    import urllib.parse

    with caplog.at_level(logging.INFO, logger="hippo.server"):
        status, _, _ = send(daemon, "GET", "/v1/hippo/search?" + urllib.parse.urlencode({"q": "my PIN 4321", "k": 3}))
    assert status == 200
    assert "/v1/hippo/search?…" in caplog.text and "4321" not in caplog.text
