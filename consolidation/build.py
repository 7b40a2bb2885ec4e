"""Train a LoRA on examples and write it as GGUF (for llama.cpp) plus PEFT files (for torch)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Sequence

from config import Settings
from consolidation.adapter_file import write_lora_gguf
from consolidation.base_model import load_base_model
from consolidation.prompt import format_for_model
from consolidation.train import Example, LoraTrainConfig, lora_state_dict, train_lora


@dataclass
class BuiltAdapter:
    gguf: Path
    peft_dir: Path
    losses: list[float]
    tokens: int


def build_adapter(
    settings: Settings, examples: Sequence[Example], out_dir: Path, cfg: LoraTrainConfig,
    version: str | None = None, on_step: Callable[[int, float], None] | None = None, progress=print,
) -> BuiltAdapter:
    """Load the base model, train LoRA on `examples`, save `out_dir/adapter.gguf` + PEFT files."""
    model, tokenizer, info = load_base_model(settings, progress=progress)
    fmt = format_for_model(settings.model.prompt_format, info.gguf_path)
    result = train_lora(model, tokenizer, fmt, examples, cfg, on_step=on_step)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    result.model.save_pretrained(out_dir, safe_serialization=True)
    gguf_path = write_lora_gguf(
        lora_state_dict(result.model), out_dir / "adapter.gguf",
        architecture=info.architecture, n_layers=info.n_layers, alpha=cfg.alpha,
        base_sha256=info.sha256, version=version,
    )
    return BuiltAdapter(gguf_path, out_dir, result.losses, result.tokens)
