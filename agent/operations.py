"""What the CLI and the daemon both do with an open `Memory`: import, list, forget, recall.

Each function takes the memory and returns plain JSON-ready data, so the same code serves
`agent import` in-process and `POST /v1/hippo/import` in the daemon.
"""

from __future__ import annotations

from memory.secrets import redact

RETRIEVAL_K = 3  # recalled turns per question
RETRIEVAL_MIN_SCORE = 0.35  # cosine; below it a turn is not about the question

FACT_KEYS = ("id", "text", "attribute", "value", "sessions", "doubted", "status", "first_seen", "last_seen",
             "subject", "superseded_by", "turns", "note")


def fact_json(fact) -> dict:
    d = fact.to_dict()
    return {k: d[k] for k in FACT_KEYS}


def import_turns(mem, turns: list[dict], detect, progress=None) -> dict:
    """Store validated turns (all or nothing, durable when this returns), run `detect()`
    (→ DetectReport), report counts. The turns are redacted and embedded before the store is
    touched; `progress(stage, done, total)` follows that."""
    from memory.core import prepare_turns

    prepared = prepare_turns(turns, mem.embedder, progress and (lambda d, t: progress("embedding turns", d, t)))
    added = mem.write_turns(prepared)
    rep = detect()
    counts = mem.stats()["facts"]
    return {
        "turns_imported": added.added,
        "duplicates": added.duplicates,
        "sessions": len({t["session"] for t in turns}),
        "statements": rep.statements,
        "new_facts": len(rep.new_facts),
        "new_candidates": len(rep.promoted),
        "superseded": len(rep.superseded),
        "facts_observed": counts.get("observed", 0),
        "candidates": counts.get("candidate", 0),
        "consolidated": counts.get("consolidated", 0),
    }


def list_facts(mem, status: list[str] | None = None) -> list[dict]:
    return [fact_json(f) for f in mem.facts(status or None)]


def forget(mem, id_or_text: str) -> dict:
    return fact_json(mem.forget(id_or_text))


def erase_turns(mem, ids: list[int], containing: str | None) -> dict:
    return mem.erase_turns(ids, containing)


def search(mem, query: str, k: int) -> list[dict]:
    return [h.to_dict() for h in mem.search(query, k)]


def recall(mem, question: str, exclude_session: str | None = None) -> list[dict]:
    """The short-term memory the prompt gets for `question` (see `Memory.recall`)."""
    return [h.to_dict() for h in mem.recall(question, RETRIEVAL_K, RETRIEVAL_MIN_SCORE, exclude_session)]


def context_for(engine, mem, question: str, exclude_session: str | None = None) -> tuple[str, ...]:
    """The recalled texts the prompt gets for `question`. What choosing a shard will embed is
    embedded first, in one pass with the question itself, which retrieval embeds too."""
    if engine.scope is not None:
        engine.scope.embed(question)
    return recalled_texts(recall(mem, question, exclude_session))


def recalled_texts(hits) -> tuple[str, ...]:
    """The texts of recalled turns (dicts or `memory.Hit`s), as the prompt's context takes them."""
    return tuple(h["text"] if isinstance(h, dict) else h.text for h in hits)


def answer_and_remember(engine, memory, question: str, history, context, max_tokens: int | None,
                        session: str | None = None, after=None):
    """Stream the answer (leading blanks trimmed). When it ends or is stopped, remember both
    turns under `session` (None: remember nothing) and then call `after()`. Secrets said earlier
    in the conversation are redacted from the history, as they are from memory."""
    out: list[str] = []
    history = [(role, redact(text)) for role, text in history]
    try:
        for piece in engine.stream_answer(question, history, context, max_tokens):
            if not out:
                piece = piece.lstrip()
                if not piece:
                    continue
            out.append(piece)
            yield piece
    finally:
        if session is not None:
            answer = "".join(out).strip() or "…"
            memory.add_turns([{"session": session, "role": "user", "content": question},
                              {"session": session, "role": "assistant", "content": answer}])
        if after is not None:
            after()
