"""Greedy completions of several prompts at once on one llama.cpp context (one sequence each).

Extraction writes a few tokens per turn, and a decode step of one token costs about as much as a
step of eight on a CPU (the 262k-word output layer is read once either way), so turns are
decoded side by side: each step adds one token to every running sequence, and a sequence whose
completion ended takes the next prompt in the same step (continuous batching). Text is
tokenised without special tokens: a user's "<start_of_turn>" stays text.
"""

from __future__ import annotations

import ctypes
import logging
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

import numpy as np

from config.models import open_llama

__all__ = ["BatchedGreedy", "quiet_llama_logs"]

_log_callback = None


def quiet_llama_logs() -> None:
    """Route llama.cpp's log lines to Python logging (DEBUG) instead of stderr (once per process)."""
    global _log_callback
    if _log_callback is not None:
        return
    import llama_cpp

    log = logging.getLogger("hippo.llama")

    @llama_cpp.llama_log_callback
    def _cb(level, text, user_data):
        # Failures surface as NULL returns we turn into errors; the log is for debugging only.
        log.debug("%s", text.decode("utf-8", "replace").rstrip())

    _log_callback = _cb  # keep a reference: llama.cpp holds only the C pointer
    llama_cpp.llama_log_set(_cb, ctypes.c_void_p(0))


class BatchedGreedy:
    """One base model (+ an optional LoRA) and a context of `n_seq` sequences of `n_ctx_seq` tokens."""

    def __init__(self, model_path: Path, adapter: Path | None = None, n_seq: int = 8, n_ctx_seq: int = 512,
                 n_threads: int | None = None) -> None:
        import llama_cpp
        from llama_cpp import _internals

        self._lc = llama_cpp
        quiet_llama_logs()
        threads = n_threads or os.cpu_count() or 1
        # the Llama object gives us the model and its tokenizer; its own small context stays unused
        self.llm = open_llama(model_path=str(model_path), n_ctx=64, n_batch=64, n_threads=threads, verbose=False)
        params = llama_cpp.llama_context_default_params()
        params.n_ctx = n_seq * n_ctx_seq
        params.n_batch = params.n_ctx
        params.n_ubatch = min(512, params.n_ctx)
        params.n_seq_max = n_seq
        params.n_threads = params.n_threads_batch = threads
        self.n_seq, self.n_ctx_seq = n_seq, n_ctx_seq
        self.ctx = self._adapter = self._batch = None
        try:
            self.ctx = _internals.LlamaContext(model=self.llm._model, params=params, verbose=False)
            if adapter is not None:
                self._adapter = llama_cpp.llama_adapter_lora_init(self.llm._model.model, str(adapter).encode())
                if not self._adapter:
                    raise ValueError(f"llama.cpp could not load adapter {adapter}")
                adapters = (llama_cpp.llama_adapter_lora_p_ctypes * 1)(self._adapter)
                scales = (ctypes.c_float * 1)(1.0)
                if llama_cpp.llama_set_adapters_lora(self.ctx.ctx, adapters, 1, scales) != 0:
                    raise ValueError(f"llama.cpp could not apply adapter {adapter}")
            self._vocab = llama_cpp.llama_model_get_vocab(self.llm._model.model)
            self.n_vocab = llama_cpp.llama_vocab_n_tokens(self._vocab)
            self._batch = llama_cpp.llama_batch_init(params.n_ctx, 0, n_seq)
        except BaseException:
            self.close()
            raise

    def _decode(self, items: list[tuple[int, int, int, bool]]) -> dict[int, int]:
        """Decode (token, pos, seq, wants_logits) items; returns seq -> row of its logits."""
        b, rows = self._batch, {}
        b.n_tokens = len(items)
        for i, (tok, pos, seq, out) in enumerate(items):
            b.token[i], b.pos[i], b.n_seq_id[i] = tok, pos, 1
            b.seq_id[i][0] = seq
            b.logits[i] = out
            if out:
                rows[seq] = i
        if self._lc.llama_decode(self.ctx.ctx, b) != 0:
            raise RuntimeError("llama.cpp could not decode the batch")
        return rows

    def _argmax(self, row: int) -> int:
        ptr = self._lc.llama_get_logits_ith(self.ctx.ctx, row)
        return int(np.ctypeslib.as_array(ptr, shape=(self.n_vocab,)).argmax())

    def complete(self, prompts: Sequence[str], max_tokens: int, stop: str) -> list[str]:
        """Greedy completion of each prompt, cut at `stop`. A completion that ran into `max_tokens`
        loses its unfinished last line.

        Continuous batching: `n_seq` slots; each decode step adds one token to every running slot, and
        a slot whose completion ended takes the next prompt in the same step."""
        lc = self._lc
        mem = lc.llama_get_memory(self.ctx.ctx)
        lc.llama_memory_clear(mem, True)
        limit = self.n_ctx_seq - max_tokens
        queue = list(range(len(prompts)))[::-1]
        texts = [""] * len(prompts)
        slots: dict[int, _Slot] = {}  # seq -> what runs there
        rows: dict[int, int] = {}
        while queue or slots:
            step = []
            for seq in sorted(slots):  # one more token for every running completion
                slot = slots[seq]
                tok = self._argmax(rows[seq])
                if lc.llama_vocab_is_eog(self._vocab, tok):
                    result = self.llm.detokenize(slot.made).decode("utf-8", errors="ignore")
                else:
                    slot.made.append(tok)
                    text = self.llm.detokenize(slot.made).decode("utf-8", errors="ignore")
                    if stop in text:
                        result = text.split(stop)[0]
                    elif len(slot.made) >= max_tokens:
                        result = _whole_lines(text)
                    else:
                        step.append((tok, slot.n_prompt + len(slot.made) - 1, seq, True))
                        continue
                texts[slot.index] = result
                del slots[seq]
                lc.llama_memory_seq_rm(mem, seq, -1, -1)
            for seq in range(self.n_seq):  # free slots take the next prompts
                if seq in slots or not queue:
                    continue
                i = queue.pop()
                toks = self.llm.tokenize(prompts[i].encode("utf-8"), add_bos=True, special=False)
                if len(toks) > limit:  # keep BOS and the end (where the turn and "Facts:" are)
                    toks = toks[:1] + toks[-(limit - 1):]
                slots[seq] = _Slot(i, len(toks))
                step += [(t, pos, seq, pos == len(toks) - 1) for pos, t in enumerate(toks)]
            if step:
                rows = self._decode(step)
        return texts

    def close(self) -> None:
        """Free the batch, the context, the adapter, then the model (in that order)."""
        if self._batch is not None:
            self._lc.llama_batch_free(self._batch)
            self._batch = None
        if self.ctx is not None:
            self.ctx.close()
            self.ctx = None
        if self._adapter is not None:
            self._lc.llama_adapter_lora_free(self._adapter)
            self._adapter = None
        self.llm.close()


@dataclass
class _Slot:
    """A completion running in one sequence of the context."""

    index: int  # which prompt
    n_prompt: int  # its tokens
    made: list[int] = field(default_factory=list)


def _whole_lines(text: str) -> str:
    """A completion cut off by the token limit, without its unfinished last line."""
    return text.rsplit("\n", 1)[0] if "\n" in text.strip() else ""
