"""GGUF LoRA adapter files: write one from PEFT weights, read and check one before use.

Format (what llama.cpp's `llama_adapter_lora_init` expects): metadata
`general.architecture`, `general.type=adapter`, `adapter.type=lora`, `adapter.lora.alpha`;
per adapted weight `<gguf name>.weight.lora_a` (numpy (r, n_in)) and `.lora_b` ((n_out, r)).
We add `hippo.base_model.sha256` and `hippo.version` so a wrong base is refused at load time.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from config import UserError
from config.atomic import commit_file, temp_path
from consolidation.gguf_header import GGUFFormatError, read_gguf_header

KEY_BASE_SHA = "hippo.base_model.sha256"
KEY_VERSION = "hippo.version"
_PEFT_KEY = re.compile(r"^(?:base_model\.model\.)?(?P<module>.+)\.lora_(?P<ab>[AB])(?:\.default)?\.weight$")


@dataclass
class AdapterHeader:
    """What an adapter file says about itself, read without loading it into llama.cpp."""

    architecture: str
    alpha: float
    base_sha256: str | None
    version: str | None
    pairs: dict[str, tuple[tuple[int, ...], tuple[int, ...]]] = field(default_factory=dict)

    @property
    def n_tensors(self) -> int:
        return 2 * len(self.pairs)


def read_adapter_header(path: str | Path) -> AdapterHeader:
    """Parse and check an adapter file. Raises UserError if missing, corrupt or not a LoRA."""
    path = Path(path)
    if path.is_dir():
        raise UserError(f"{path} is a directory, expected a .gguf LoRA file")
    if not path.is_file():
        raise UserError(f"adapter file not found: {path}")
    try:
        gh = read_gguf_header(path)
    except (GGUFFormatError, OSError) as e:
        raise UserError(f"adapter {path} is not a valid GGUF file ({e})") from None
    meta = gh.metadata
    if meta.get("general.type") != "adapter" or meta.get("adapter.type") != "lora":
        raise UserError(f"{path} is a GGUF file but not a LoRA adapter")
    header = AdapterHeader(
        architecture=str(meta.get("general.architecture")),
        alpha=float(meta.get("adapter.lora.alpha") or 0.0),
        base_sha256=meta.get(KEY_BASE_SHA),
        version=meta.get(KEY_VERSION),
    )
    for name, a_shape in gh.shapes.items():
        if not name.endswith(".lora_a"):
            continue
        base = name[: -len(".lora_a")]
        b_shape = gh.shapes.get(base + ".lora_b")
        if b_shape is None:
            raise UserError(f"adapter {path} is incomplete: {base}.lora_b is missing")
        header.pairs[base] = (a_shape, b_shape)
    if not header.pairs or len(gh.shapes) != 2 * len(header.pairs):
        raise UserError(f"adapter {path} has no usable LoRA tensor pairs")
    return header


def gguf_tensor_names(architecture: str, n_layers: int):
    """The HF→GGUF tensor name map for an architecture (raises UserError if unknown)."""
    import gguf

    arch = {v: k for k, v in gguf.MODEL_ARCH_NAMES.items()}.get(architecture)
    if arch is None:
        raise UserError(f"cannot export adapters for architecture '{architecture}'")
    return gguf.get_tensor_name_map(arch, n_layers)


def write_lora_gguf(
    state_dict: dict, path: str | Path, *, architecture: str, n_layers: int, alpha: float,
    base_sha256: str | None = None, version: str | None = None,
) -> Path:
    """Write PEFT LoRA weights (`state_dict` of lora_A/lora_B tensors) as a GGUF LoRA, atomically."""
    import gguf

    names = gguf_tensor_names(architecture, n_layers)
    pairs: dict[str, dict[str, np.ndarray]] = {}
    for key, tensor in state_dict.items():
        m = _PEFT_KEY.match(key)
        if not m:
            continue
        gguf_name = names.get_name(m["module"])
        if gguf_name is None:
            raise UserError(f"no GGUF name for module '{m['module']}' ({architecture})")
        arr = tensor.detach().to("cpu").float().numpy() if hasattr(tensor, "detach") else np.asarray(tensor, np.float32)
        pairs.setdefault(gguf_name + ".weight", {})[m["ab"]] = np.ascontiguousarray(arr, dtype=np.float32)
    if not pairs:
        raise ValueError("state_dict holds no LoRA weights")

    path = Path(path)
    tmp = temp_path(path)
    writer = gguf.GGUFWriter(str(tmp), arch=architecture)
    writer.add_string("general.type", "adapter")
    writer.add_string("adapter.type", "lora")
    writer.add_float32("adapter.lora.alpha", float(alpha))
    if base_sha256:
        writer.add_string(KEY_BASE_SHA, base_sha256)
    if version:
        writer.add_string(KEY_VERSION, version)
    for base in sorted(pairs):
        ab = pairs[base]
        if set(ab) != {"A", "B"}:
            raise ValueError(f"{base}: lora_A and lora_B must both be present")
        writer.add_tensor(base + ".lora_a", ab["A"])
        writer.add_tensor(base + ".lora_b", ab["B"])
    try:
        writer.write_header_to_file()
        writer.write_kv_data_to_file()
        writer.write_tensors_to_file()
        writer.close()
        commit_file(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path

