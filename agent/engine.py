"""The inference engine: one llama.cpp base model, LoRA adapters hot-swapped between turns.

`set_adapters` loads GGUF LoRAs (one per memory shard) through llama.cpp's low-level adapter API;
per question the scope picks the one to apply on the running context (a few ms; the base model
is never reloaded). A generation holds the
engine's lock until it ends, so a swap never lands mid-answer. After every swap the KV cache is
cleared: state computed under one adapter must not leak into answers of another.
"""

from __future__ import annotations

import ctypes
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, Sequence

from agent.fair_lock import FairRLock
from config import UserError
from config.models import model_sha256, open_llama
from config.settings import ModelSettings
from consolidation.adapter_file import AdapterHeader, read_adapter_header
from consolidation.gguf_header import read_gguf_header
from consolidation.prompt import Message, PromptFormat, choose_format
from memory.batched import quiet_llama_logs

MAX_RECALLED_CHARS = 600  # a recalled turn longer than this goes into the prompt cut


@dataclass(frozen=True)
class ActiveAdapter:
    """The adapters currently loaded (one per memory shard): where they came from, what they say."""

    paths: tuple[Path, ...]
    version: str | None
    scale: float
    n_tensors: int
    loaded_ms: float
    reused: int = 0  # adapters kept loaded from the previous set (a carried shard is the same file)

    @property
    def path(self) -> Path:
        return self.paths[0]


def _file_key(path: Path) -> tuple:
    """Which file this is: a hard link shares it, a rewrite (temp file + os.replace) does not."""
    st = path.stat()
    return st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns


class Engine:
    """A loaded base model that answers questions, streams, and hot-swaps LoRA adapters."""

    def __init__(self, model_path: Path, settings: ModelSettings | None = None, verbose: bool = False):
        import llama_cpp

        self._llama_cpp = llama_cpp
        if not verbose:
            quiet_llama_logs()
        self.settings = settings or ModelSettings()
        self.model_path = Path(model_path)
        if not self.model_path.is_file():
            raise UserError(f"model file not found: {self.model_path}")
        try:
            self.llm = open_llama(
                model_path=str(self.model_path),
                n_ctx=self.settings.n_ctx,
                n_threads=self.settings.n_threads or os.cpu_count(),
                n_gpu_layers=self.settings.n_gpu_layers,
                seed=self.settings.seed,
                verbose=verbose,
            )
        except ValueError as e:
            raise UserError(f"llama.cpp could not load {self.model_path}: {e}") from None
        meta = self.llm.metadata
        self.architecture = meta.get("general.architecture", "unknown")
        self.model_name = meta.get("general.name") or self.model_path.stem
        self.format: PromptFormat = choose_format(
            self.settings.prompt_format, f"{self.model_name} {self.model_path.name}",
            meta.get("tokenizer.chat_template"),
        )
        self._base_sha256: str | None = None
        self._base_shapes: dict[str, tuple[int, ...]] | None = None
        self._lock = FairRLock()  # queued answers in arrival order
        self._adapter: ActiveAdapter | None = None
        self._ptrs: list = []  # the loaded adapters, one per shard
        self._keys: list = []  # the file each was loaded from (_file_key)
        self._applied = None  # what llama.cpp applies now: one of _ptrs, or None (scope gate)
        self._scope = None
        self.last_routed = False  # did the last answer use the adapter?

    # ---- identity -------------------------------------------------------------------------
    @property
    def base_sha256(self) -> str:
        """sha256 of the base GGUF (cached beside the file)."""
        if self._base_sha256 is None:
            self._base_sha256 = model_sha256(self.model_path)
        return self._base_sha256

    @property
    def adapter(self) -> ActiveAdapter | None:
        return self._adapter

    def tensor_shapes(self) -> dict[str, tuple[int, ...]]:
        """Base tensor shapes (numpy order), read once from the GGUF header (~0.2 s)."""
        if self._base_shapes is None:
            self._base_shapes = read_gguf_header(self.model_path).shapes
        return self._base_shapes

    # ---- adapters -------------------------------------------------------------------------
    def set_adapter(self, path: str | Path | None, scale: float = 1.0, version: str | None = None,
                    scope=None) -> ActiveAdapter | None:
        """Apply the GGUF LoRA at `path` (None removes it): `set_adapters` with one adapter."""
        return self.set_adapters([path] if path is not None else [], scale, version, scope)

    def set_adapters(self, paths: Sequence[str | Path], scale: float = 1.0, version: str | None = None,
                     scope=None) -> ActiveAdapter | None:
        """Load the GGUF LoRAs at `paths` (none: the base model alone). Waits for a running generation.

        With a `scope` (consolidation.scope.Scope), `answer`/`stream_answer` apply the adapter the
        scope picks per question and let the base model answer the rest; several adapters need one.
        A missing, corrupt or mismatched file raises UserError and the previous adapters stay.
        """
        llama_cpp = self._llama_cpp
        paths = [Path(p) for p in paths]
        if len(paths) > 1 and scope is None:
            raise ValueError("several adapters need a scope to choose between them")
        headers = [self._validate(p) for p in paths]
        keys = [_file_key(p) for p in paths]
        t0 = time.perf_counter()
        with self._lock:
            loaded = dict(zip(self._keys, self._ptrs))  # a carried shard is the same file: keep it loaded
            ptrs, fresh = [], []
            for path, key in zip(paths, keys):
                ptr = loaded.get(key)
                if ptr is None:
                    ptr = llama_cpp.llama_adapter_lora_init(self.llm._model.model, str(path).encode())
                    if not ptr:
                        for new in fresh:
                            llama_cpp.llama_adapter_lora_free(new)
                        raise UserError(f"llama.cpp could not load adapter {path}")
                    fresh.append(ptr)
                ptrs.append(ptr)
            self._apply(None)
            self._free_adapters(keep=ptrs)
            self._ptrs, self._keys, self._scope = ptrs, keys, scope
            self._adapter = ActiveAdapter(
                paths=tuple(paths), version=version or (headers[0].version if headers else None), scale=scale,
                n_tensors=sum(h.n_tensors for h in headers), loaded_ms=(time.perf_counter() - t0) * 1000,
                reused=len(ptrs) - len(fresh),
            ) if paths else None
        return self._adapter

    def _validate(self, path: Path) -> AdapterHeader:
        header = read_adapter_header(path)  # raises UserError for missing/corrupt/not-a-LoRA
        if header.architecture != self.architecture:
            raise UserError(
                f"adapter {path} is for architecture '{header.architecture}', model is '{self.architecture}'"
            )
        if header.base_sha256 and header.base_sha256 != self.base_sha256:
            raise UserError(
                f"adapter {path} was trained for another base model "
                f"(sha256 {header.base_sha256[:12]}…, running {self.base_sha256[:12]}…)"
            )
        shapes = self.tensor_shapes()
        for name, (a_shape, b_shape) in header.pairs.items():
            base = shapes.get(name)
            if base is None or len(base) != 2:
                raise UserError(f"adapter {path} targets '{name}', which the model does not have")
            if a_shape[1] != base[1] or b_shape[0] != base[0] or a_shape[0] != b_shape[1]:
                raise UserError(f"adapter {path}: shape of '{name}' does not fit the model")
        return header

    def _apply(self, ptr, scale: float = 1.0) -> None:
        """Make `ptr` (or no adapter) the one llama.cpp applies; clear the cache on change."""
        llama_cpp = self._llama_cpp
        if ptr == self._applied:
            return
        if ptr is None:
            rc = llama_cpp.llama_set_adapters_lora(self.llm._ctx.ctx, None, 0, None)
        else:
            adapters = (llama_cpp.llama_adapter_lora_p_ctypes * 1)(ptr)
            scales = (ctypes.c_float * 1)(scale)
            rc = llama_cpp.llama_set_adapters_lora(self.llm._ctx.ctx, adapters, 1, scales)
        if rc != 0:
            raise UserError("llama.cpp could not apply the adapter")
        self._applied = ptr
        self._clear_cache()

    def route(self, question: str) -> bool:
        """Apply the adapter the scope picks for `question` (the only one, without a scope)."""
        with self._lock:
            if not self._ptrs:
                self.last_routed = False
                return False
            shard = 0 if self._scope is None else self._scope.pick(question)
            self._apply(self._ptrs[shard] if shard is not None else None, self._adapter.scale)
            self.last_routed = shard is not None
            return self.last_routed

    @property
    def scope(self):
        return self._scope

    def _free_adapters(self, keep: Sequence = ()) -> None:
        kept = {id(ptr) for ptr in keep}  # ctypes pointers are not hashable
        for ptr in {id(ptr): ptr for ptr in self._ptrs if id(ptr) not in kept}.values():
            self._llama_cpp.llama_adapter_lora_free(ptr)
        self._ptrs, self._keys = [], []

    def _clear_cache(self) -> None:
        """Forget all cached tokens (prefix reuse included); cell data need not be zeroed."""
        self.llm.reset()
        mem = self._llama_cpp.llama_get_memory(self.llm._ctx.ctx)
        if mem is not None:
            self._llama_cpp.llama_memory_clear(mem, False)

    # ---- generation -----------------------------------------------------------------------
    def tokens(self, prompt: str) -> list[int]:
        """A rendered prompt as tokens. A plain prompt gets no control tokens at all; a chat prompt
        only those its template wrote (the format neutralised every text it put in)."""
        return self.llm.tokenize(prompt.encode(), add_bos=True, special=self.format.style == "chat")

    def prompt(self, question: str, history: Sequence[Message] = (), context: Sequence[str] = (),
               max_tokens: int | None = None) -> list[int]:
        """The prompt for `question`, fitted to the context window with room for the answer: each
        recalled turn is cut to MAX_RECALLED_CHARS, then recalled turns (least relevant first) and
        the oldest history are dropped until it fits; an overlong question keeps its start and end."""
        room = self.settings.n_ctx - (max_tokens or self.settings.max_tokens)
        context = [c if len(c) <= MAX_RECALLED_CHARS else c[:MAX_RECALLED_CHARS] + " …" for c in context]
        history = list(history)
        while True:
            tokens = self.tokens(self.format.render(question, history, context))
            if len(tokens) <= room:
                return tokens
            if context:
                context.pop()
            elif history:
                history = history[2:]
            else:
                q = self.llm.tokenize(question.encode(), add_bos=False, special=False)
                keep = (room - (len(tokens) - len(q))) // 2 - 8
                if keep < 8:
                    raise UserError(f"model.n_ctx ({self.settings.n_ctx}) is too small for a prompt")
                text = self.llm.detokenize
                question = (text(q[:keep]) + " … ".encode() + text(q[-keep:])).decode(errors="ignore")

    def stream(self, prompt: list[int], max_tokens: int | None = None, stop: Sequence[str] | None = None) -> Iterator[str]:
        """Greedy completion of the `prompt` tokens, yielded piece by piece. Holds the lock throughout."""
        with self._lock:
            chunks = self.llm.create_completion(
                prompt, max_tokens=max_tokens or self.settings.max_tokens,
                temperature=0.0, top_k=1, repeat_penalty=1.0,
                stop=list(stop if stop is not None else self.format.stops), stream=True,
            )
            try:
                for chunk in chunks:
                    text = chunk["choices"][0]["text"]
                    if text:
                        yield text
            finally:
                chunks.close()

    def answer(self, question: str, history: Sequence[Message] = (), context: Sequence[str] = (),
               max_tokens: int | None = None) -> str:
        """The model's answer to `question` in the engine's prompt format (greedy)."""
        return "".join(self.stream_answer(question, history, context, max_tokens)).strip()

    def stream_answer(self, question: str, history: Sequence[Message] = (), context: Sequence[str] = (),
                      max_tokens: int | None = None) -> Iterator[str]:
        """Like `answer`, streamed; the scope gate decides whether the adapter answers."""
        with self._lock:
            self.route(question)
            yield from self.stream(self.prompt(question, history, context, max_tokens), max_tokens)

    def close(self) -> None:
        with self._lock:
            self._apply(None)
            self._free_adapters()
            self.llm.close()
