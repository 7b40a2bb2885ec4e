"""A fast reader for a GGUF file's header: metadata and tensor shapes, no tensor data.

`gguf.GGUFReader` maps every tensor and takes ~12 s on the 270M base model; the checks done
before an adapter swap need only names and shapes, which this reads in about a millisecond.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

_MAGIC = b"GGUF"
# GGUF value types → struct format (scalars); 8 = string, 9 = array
_SCALAR = {0: "B", 1: "b", 2: "H", 3: "h", 4: "I", 5: "i", 6: "f", 7: "?", 10: "Q", 11: "q", 12: "d"}
_MAX_COUNT = 1 << 24  # refuse absurd counts from corrupt files instead of allocating


class GGUFFormatError(ValueError):
    """The file is not a GGUF file, or is truncated/corrupt."""


@dataclass
class GGUFHeader:
    version: int
    metadata: dict = field(default_factory=dict)
    shapes: dict[str, tuple[int, ...]] = field(default_factory=dict)  # numpy order (n_out, n_in)


def _read(f: BinaryIO, fmt: str):
    size = struct.calcsize(fmt)
    data = f.read(size)
    if len(data) != size:
        raise GGUFFormatError("truncated file")
    return struct.unpack("<" + fmt, data)[0]


def _string(f: BinaryIO) -> str:
    n = _read(f, "Q")
    if n > _MAX_COUNT:
        raise GGUFFormatError("string length out of range")
    data = f.read(n)
    if len(data) != n:
        raise GGUFFormatError("truncated file")
    return data.decode("utf-8", "replace")


def _value(f: BinaryIO, vtype: int, keep: bool = True):
    if vtype in _SCALAR:
        return _read(f, _SCALAR[vtype])
    if vtype == 8:
        return _string(f)
    if vtype == 9:
        itype, n = _read(f, "I"), _read(f, "Q")
        if n > _MAX_COUNT:
            raise GGUFFormatError("array length out of range")
        if itype in _SCALAR and not keep:  # skip big arrays (token lists) without decoding
            f.seek(n * struct.calcsize(_SCALAR[itype]), 1)
            return None
        items = [_value(f, itype, keep) for _ in range(n)]
        return items if keep else None
    raise GGUFFormatError(f"unknown value type {vtype}")


def read_gguf_header(path: str | Path) -> GGUFHeader:
    """Metadata (arrays other than short ones dropped) and tensor shapes of a GGUF file."""
    with open(path, "rb") as f:
        if f.read(4) != _MAGIC:
            raise GGUFFormatError("not a GGUF file (bad magic)")
        version = _read(f, "I")
        if version not in (2, 3):
            raise GGUFFormatError(f"unsupported GGUF version {version}")
        n_tensors, n_kv = _read(f, "Q"), _read(f, "Q")
        if n_tensors > _MAX_COUNT or n_kv > _MAX_COUNT:
            raise GGUFFormatError("header counts out of range")
        header = GGUFHeader(version)
        for _ in range(n_kv):
            key = _string(f)
            vtype = _read(f, "I")
            keep = not (vtype == 9 and key.startswith("tokenizer.ggml."))
            header.metadata[key] = _value(f, vtype, keep)
        for _ in range(n_tensors):
            name = _string(f)
            n_dims = _read(f, "I")
            if n_dims > 8:
                raise GGUFFormatError("tensor rank out of range")
            dims = [_read(f, "Q") for _ in range(n_dims)]
            _read(f, "I")  # type
            _read(f, "Q")  # offset
            header.shapes[name] = tuple(reversed(dims))
        return header
