"""The daemon's API through the official `openai` client (fast: the FakeEngine, an in-process daemon
on an ephemeral port): plain and streamed completions, clients that leave mid-answer, a bad token,
bad bodies, unknown endpoints."""

from __future__ import annotations

import threading
import time

import pytest

from agent.fair_lock import FairRLock

openai = pytest.importorskip("openai")


def make_client(daemon, api_key: str | None = None, timeout: float = 30) -> openai.OpenAI:
    return openai.OpenAI(base_url=f"http://127.0.0.1:{daemon.port}/v1", api_key=api_key or daemon.token,
                         max_retries=0, timeout=timeout)


@pytest.fixture
def client(daemon):
    with make_client(daemon) as c:
        yield c


@pytest.fixture
def endless(fake_engine, monkeypatch):
    """"talk forever" streams words until the reader leaves, under a FairRLock like Engine.stream_answer:
    the lock belongs to the thread that took it, so the generation must start, run and stop in one
    thread. `produced` counts the words generated."""
    state = {"lock": FairRLock(), "produced": 0}
    answer = fake_engine.stream_answer

    def stream_answer(question, history=(), context=None, max_tokens=None):
        with state["lock"]:
            while question == "talk forever":
                time.sleep(0.002)
                state["produced"] += 1
                yield " word"
            yield from answer(question, history, context, max_tokens)

    monkeypatch.setattr(fake_engine, "stream_answer", stream_answer)
    return state


def user(text: str) -> list[dict]:
    return [{"role": "user", "content": text}]


def assert_generation_stopped(state: dict) -> None:
    deadline = time.time() + 10
    while True:
        before = state["produced"]
        time.sleep(0.2)
        if state["produced"] == before:
            return
        assert time.time() < deadline, "the generation went on after the client left"


def test_a_plain_completion(client, daemon, fake_engine):
    assert [m.id for m in client.models.list()] == ["hippo"]
    r = client.chat.completions.create(model="hippo", user="oa", messages=[
        {"role": "system", "content": "be brief"}, {"role": "user", "content": "hi"},
        {"role": "assistant", "content": "hello"}, {"role": "user", "content": "How are you?"}])
    assert r.object == "chat.completion" and r.model == "hippo" and r.id.startswith("chatcmpl-")
    assert r.choices[0].message.role == "assistant" and r.choices[0].finish_reason == "stop"
    assert r.choices[0].message.content == "echo: How are you?"
    assert r.usage is not None and r.usage.total_tokens == r.usage.prompt_tokens + r.usage.completion_tokens
    assert "hello" in fake_engine.prompts[-1]  # the history reached the prompt
    assert [t.content for t in daemon.memory.turns("oa")] == ["How are you?", "echo: How are you?"]


def test_a_streamed_completion(client, daemon):
    raw = client.chat.completions.with_raw_response.create(
        model="hippo", stream=True, messages=user("stream me"), extra_body={"session": "s1"})
    assert raw.headers["content-type"].startswith("text/event-stream")
    assert raw.headers["x-hippo-session"] == "s1"
    chunks = list(raw.parse())
    assert chunks[0].choices[0].delta.role == "assistant"
    assert "".join(c.choices[0].delta.content or "" for c in chunks).strip() == "echo: stream me"
    assert [c.choices[0].finish_reason for c in chunks][-1] == "stop"
    assert {c.object for c in chunks} == {"chat.completion.chunk"} and len({c.id for c in chunks}) == 1
    assert [t.content for t in daemon.memory.turns("s1")] == ["stream me", "echo: stream me"]


def test_a_client_leaving_mid_stream_stops_the_generation_and_frees_the_engine(client, daemon, endless):
    stream = client.chat.completions.create(model="hippo", stream=True, messages=user("talk forever"),
                                            extra_body={"session": "gone"})
    words = 0
    for chunk in stream:
        words += (chunk.choices[0].delta.content or "").count("word")
        if words >= 3:
            break
    stream.close()  # drops the connection mid-answer
    assert_generation_stopped(endless)
    t0 = time.monotonic()
    r = client.chat.completions.create(model="hippo", messages=user("still there?"))
    assert r.choices[0].message.content == "echo: still there?"
    assert time.monotonic() - t0 < 5, "the next request waited for the abandoned one"
    turns = daemon.memory.turns("gone")  # what was said before the client left is remembered
    assert turns[0].content == "talk forever" and turns[1].content.startswith("word word word")


def test_a_client_that_times_out_on_a_plain_completion_frees_the_engine(daemon, endless):
    with make_client(daemon, timeout=0.5) as impatient, pytest.raises(openai.APITimeoutError):
        impatient.chat.completions.create(model="hippo", messages=user("talk forever"))
    assert_generation_stopped(endless)
    with make_client(daemon, timeout=5) as c:
        assert c.chat.completions.create(model="hippo", messages=user("next")).choices[0].message.content == "echo: next"


def test_streams_in_parallel_each_get_their_own_answer(daemon):
    out: dict[int, str] = {}

    def one(i: int) -> None:
        with make_client(daemon) as c:
            stream = c.chat.completions.create(model="hippo", stream=True, messages=user(f"q{i}"))
            out[i] = "".join(ch.choices[0].delta.content or "" for ch in stream).strip()

    threads = [threading.Thread(target=one, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert out == {i: f"echo: q{i}" for i in range(8)}


def test_a_bad_token_is_an_authentication_error(daemon):
    with make_client(daemon, api_key="nope") as bad:
        with pytest.raises(openai.AuthenticationError) as e:
            bad.chat.completions.create(model="hippo", messages=user("hi"))
        assert e.value.status_code == 401
        assert (e.value.type, e.value.code) == ("authentication_error", "invalid_api_key")
        assert "token" in e.value.message
        with pytest.raises(openai.AuthenticationError):
            bad.models.list()


@pytest.mark.parametrize("kwargs, message", [
    ({"messages": [{"role": "assistant", "content": "x"}]}, "last message must be a non-empty user message"),
    ({"messages": []}, "'messages' must be a non-empty list"),
    ({"messages": [{"role": "tool", "content": "x"}]}, "each message needs a role"),
    ({"messages": user("hi"), "max_tokens": 0}, "max_tokens must be a positive integer"),
    ({"messages": user("hi"), "extra_body": {"session": ["a"]}}, "session (or user) must be a string"),
    ({"messages": [{"role": "user", "content": [{"type": "text", "text": 5}]}]}, "list of text parts"),
])
def test_a_bad_body_is_a_bad_request_error(client, fake_engine, kwargs, message):
    with pytest.raises(openai.BadRequestError) as e:
        client.chat.completions.create(model="hippo", **kwargs)
    assert e.value.status_code == 400 and e.value.type == "invalid_request_error"
    assert message in e.value.message
    assert set(e.value.body) == {"message", "type", "code"}
    assert fake_engine.prompts == []  # refused before the engine


def test_a_streamed_request_with_a_bad_body_fails_before_streaming(client):
    with pytest.raises(openai.BadRequestError, match="last message must be"):
        client.chat.completions.create(model="hippo", stream=True, messages=[{"role": "assistant", "content": "x"}])


def test_unknown_endpoints_are_not_found_errors(client):
    with pytest.raises(openai.NotFoundError) as e:
        client.completions.create(model="hippo", prompt="hi")  # the legacy completions API is not served
    assert (e.value.type, e.value.code) == ("not_found_error", "unknown_url")
    with pytest.raises(openai.APIStatusError) as e:
        client.get("/chat/completions", cast_to=object)
    assert e.value.status_code == 405 and e.value.code == "method_not_allowed"


def test_a_blocking_daemon_call_does_not_hold_up_the_server(client, daemon, monkeypatch):
    """Daemon calls run in threads, never on the event loop: a stuck one leaves the rest served."""
    entered, release = threading.Event(), threading.Event()
    status = daemon.status

    def stuck():
        entered.set()
        release.wait(30)
        return status()

    monkeypatch.setattr(daemon, "status", stuck)
    waiting = threading.Thread(target=lambda: client.get("/hippo/status", cast_to=object))
    waiting.start()
    try:
        assert entered.wait(10)
        t0 = time.monotonic()
        assert [m.id for m in client.models.list()] == ["hippo"]
        assert client.chat.completions.create(model="hippo", messages=user("meanwhile")).choices[0].message.content \
            == "echo: meanwhile"
        assert time.monotonic() - t0 < 5
    finally:
        release.set()
        waiting.join(10)
