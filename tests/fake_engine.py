"""FakeEngine: the engine's interface without llama.cpp, for fast CLI and REPL tests.

Adapter files still go through the real header checks, so bad files fail as they would live.
"""

from __future__ import annotations

from pathlib import Path

from agent.engine import ActiveAdapter
from consolidation.adapter_file import read_adapter_header
from consolidation.prompt import PromptFormat


class FakeEngine:
    model_name = "fake-model"
    architecture = "gemma3"
    model_path = Path("fake.gguf")
    base_sha256 = "0" * 64

    def __init__(self):
        self.format = PromptFormat()
        self._adapter: ActiveAdapter | None = None
        self.prompts: list[str] = []

    @property
    def adapter(self):
        return self._adapter

    def tensor_shapes(self):
        return {}

    scope = None

    def set_adapter(self, path, scale: float = 1.0, version: str | None = None, scope=None):
        return self.set_adapters([path] if path is not None else [], scale, version, scope)

    def set_adapters(self, paths, scale: float = 1.0, version: str | None = None, scope=None):
        headers = [read_adapter_header(p) for p in paths]
        self.scope = scope
        self._adapter = ActiveAdapter(tuple(Path(p) for p in paths), version or headers[0].version, scale,
                                      sum(h.n_tensors for h in headers), 0.0) if paths else None
        return self._adapter

    def stream_answer(self, question, history=(), context=(), max_tokens=None):
        self.prompts.append(self.format.render(question, history, context))
        tag = f" [{self._adapter.version}]" if self._adapter else ""
        for word in f"echo: {question.strip()}{tag}".split(" "):
            yield " " + word

    def answer(self, question, history=(), context=(), max_tokens=None) -> str:
        return "".join(self.stream_answer(question, history, context, max_tokens)).strip()

    def close(self):
        pass
