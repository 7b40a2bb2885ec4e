"""The base model as a torch model for training, built from the same GGUF llama.cpp runs.

transformers dequantises the GGUF (~90 s for the embedded model); we save that once as
safetensors under `$AGENT_CACHE/hf/<sha256 prefix>/` so later loads take about a second.
Training on exactly the dequantised weights llama.cpp uses means a LoRA learned here applies
unchanged to the quantised model.
"""

from __future__ import annotations

import os
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

from config import Settings, UserError
from config.models import model_sha256, resolve_model_path


@dataclass
class BaseModelInfo:
    gguf_path: Path
    sha256: str
    architecture: str
    n_layers: int
    hf_dir: Path


def gguf_architecture(path: Path) -> str:
    """`general.architecture` of a GGUF file."""
    from consolidation.gguf_header import GGUFFormatError, read_gguf_header

    try:
        return str(read_gguf_header(path).metadata.get("general.architecture"))
    except (GGUFFormatError, OSError) as e:
        raise UserError(f"cannot read GGUF model {path}: {e}") from None


def _supported_architectures() -> set[str]:
    try:
        from transformers.integrations.ggml import GGUF_SUPPORTED_ARCHITECTURES

        return set(GGUF_SUPPORTED_ARCHITECTURES)
    except ImportError:  # older/newer layout: let transformers decide
        return set()


def pick_device(setting: str = "auto") -> str:
    """`cuda` when asked for or available (auto), else `cpu`."""
    import torch

    if setting == "cuda" and not torch.cuda.is_available():
        raise UserError("consolidation.device=cuda but no CUDA device is available")
    if setting == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    return setting


def uses_bf16(setting: str, device: str) -> bool:
    """Train in bf16 autocast? `auto`: where the hardware multiplies bf16 natively (a CUDA GPU
    that supports it; a CPU with AVX512-BF16 or AMX: 30% less time a step on a 2-core Zen 4),
    not where it would be emulated (slower than fp32)."""
    import torch

    if setting != "auto":
        return setting == "bf16"
    if device == "cuda":
        return torch.cuda.is_bf16_supported()
    try:
        flags = Path("/proc/cpuinfo").read_text().split()
    except OSError:
        return False
    return "avx512_bf16" in flags or "amx_bf16" in flags


def prepare_hf_copy(settings: Settings, progress=print) -> BaseModelInfo:
    """Make sure the dequantised HF copy of the configured GGUF exists; return where it is."""
    gguf_path = resolve_model_path(settings)
    sha = model_sha256(gguf_path)
    arch = gguf_architecture(gguf_path)
    supported = _supported_architectures()
    if supported and arch not in supported:
        raise UserError(
            f"cannot train on architecture '{arch}': transformers reads GGUF only for "
            f"{', '.join(sorted(supported))}"
        )
    hf_dir = settings.cache / "hf" / sha[:16]
    if not (hf_dir / "config.json").exists():
        _convert(gguf_path, hf_dir, progress)
    import json

    cfg = json.loads((hf_dir / "config.json").read_text())
    cfg = cfg.get("text_config", cfg)
    return BaseModelInfo(gguf_path, sha, arch, int(cfg["num_hidden_layers"]), hf_dir)


def _convert(gguf_path: Path, hf_dir: Path, progress) -> None:
    from transformers import AutoModelForCausalLM, AutoTokenizer

    progress(f"Dequantising {gguf_path.name} for training (once; about a minute)…")
    t0 = time.time()
    try:
        loaded = AutoModelForCausalLM.from_pretrained(gguf_path.parent, gguf_file=gguf_path.name)
        tokenizer = AutoTokenizer.from_pretrained(gguf_path.parent, gguf_file=gguf_path.name)
    except (ValueError, KeyError, NotImplementedError) as e:
        raise UserError(f"transformers cannot load {gguf_path.name} for training: {e}") from None
    # save_pretrained refuses a GGUF-loaded model: copy the weights into a fresh one.
    config = loaded.config
    if hasattr(config, "quantization_config"):
        del config.quantization_config  # the copy is plain safetensors, not GGUF
    fresh = AutoModelForCausalLM.from_config(config)
    fresh.load_state_dict(loaded.state_dict())
    tmp = hf_dir.with_name(f"{hf_dir.name}.tmp{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    fresh.save_pretrained(tmp, safe_serialization=True)
    tokenizer.save_pretrained(tmp)
    hf_dir.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.replace(tmp, hf_dir)
    except OSError:  # another process finished first
        shutil.rmtree(tmp, ignore_errors=True)
    progress(f"Saved training copy to {hf_dir} ({time.time() - t0:.0f} s)")


def quiet_transformers() -> None:
    """No progress bars or advisory warnings from transformers/peft on our users' screens."""
    import warnings

    import transformers

    transformers.utils.logging.set_verbosity_error()
    transformers.utils.logging.disable_progress_bar()
    warnings.filterwarnings("ignore", category=FutureWarning, module=r"(transformers|peft)\.")
    warnings.filterwarnings("ignore", category=UserWarning, module=r"(transformers|peft)\.")


def load_base_model(settings: Settings, device: str | None = None, progress=print):
    """(model, tokenizer, info): the base model in fp32 (bf16 on CUDA), eval mode, frozen."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    quiet_transformers()
    info = prepare_hf_copy(settings, progress)
    device = device or pick_device(settings.consolidation.device)
    dtype = torch.bfloat16 if device == "cuda" else torch.float32
    model = AutoModelForCausalLM.from_pretrained(info.hf_dir, dtype=dtype, use_safetensors=True)
    model.to(device).eval()
    for p in model.parameters():
        p.requires_grad_(False)
    tokenizer = AutoTokenizer.from_pretrained(info.hf_dir)
    return model, tokenizer, info
