import numpy as np
import pytest

from config import UserError
from consolidation.adapter_file import read_adapter_header, write_lora_gguf
from consolidation.gguf_header import GGUFFormatError, read_gguf_header
from consolidation.train import LoraTrainConfig, attach_lora, lora_state_dict


@pytest.fixture
def tiny_lora_state(tiny_gemma):
    import copy

    model, _ = tiny_gemma
    peft_model = attach_lora(copy.deepcopy(model), LoraTrainConfig(rank=4, alpha=8))
    return lora_state_dict(peft_model)


def test_export_names_and_shapes(tiny_lora_state, tmp_path):
    path = write_lora_gguf(tiny_lora_state, tmp_path / "a.gguf", architecture="gemma3", n_layers=2,
                           alpha=8, base_sha256="ab" * 32, version="v0007")
    h = read_adapter_header(path)
    assert h.architecture == "gemma3" and h.alpha == 8.0
    assert h.base_sha256 == "ab" * 32 and h.version == "v0007"
    # 7 linear modules x 2 layers, each with lora_a (r, n_in) and lora_b (n_out, r)
    assert len(h.pairs) == 14
    a, b = h.pairs["blk.0.attn_q.weight"]
    assert a == (4, 32) and b == (32, 4)  # q_proj: 2 heads x 16 = 32 out, hidden 32 in
    a, b = h.pairs["blk.1.ffn_down.weight"]
    assert a == (4, 64) and b == (32, 4)
    assert not list(tmp_path.glob(".*tmp*"))  # no temp file left behind


def test_exported_values_roundtrip(tiny_lora_state, tmp_path):
    import gguf

    path = write_lora_gguf(tiny_lora_state, tmp_path / "a.gguf", architecture="gemma3", n_layers=2, alpha=8)
    tensors = {t.name: np.array(t.data) for t in gguf.GGUFReader(path).tensors}
    key = next(k for k in tiny_lora_state if "layers.1.mlp.up_proj.lora_A" in k)
    np.testing.assert_array_equal(tensors["blk.1.ffn_up.weight.lora_a"], tiny_lora_state[key].numpy())


def test_fast_header_matches_gguf_reader(tiny_lora_state, tmp_path):
    import gguf

    path = write_lora_gguf(tiny_lora_state, tmp_path / "a.gguf", architecture="gemma3", n_layers=2, alpha=8)
    ours = read_gguf_header(path)
    theirs = {t.name: tuple(int(d) for d in reversed(t.shape)) for t in gguf.GGUFReader(path).tensors}
    assert ours.shapes == theirs
    assert ours.metadata["general.architecture"] == "gemma3"


@pytest.mark.parametrize("content", [b"", b"GGUF", b"GGUF\x03\x00\x00\x00" + b"\xff" * 16, bytes(range(256)) * 20])
def test_corrupt_files_are_refused(tmp_path, content):
    p = tmp_path / "bad.gguf"
    p.write_bytes(content)
    with pytest.raises(UserError, match="not a valid GGUF"):
        read_adapter_header(p)
    with pytest.raises(GGUFFormatError):
        read_gguf_header(p)


def test_truncated_adapter_refused(tiny_lora_state, tmp_path):
    path = write_lora_gguf(tiny_lora_state, tmp_path / "a.gguf", architecture="gemma3", n_layers=2, alpha=8)
    data = path.read_bytes()
    path.write_bytes(data[:200])
    with pytest.raises(UserError):
        read_adapter_header(path)


def test_missing_and_non_lora(tmp_path):
    import gguf

    with pytest.raises(UserError, match="not found"):
        read_adapter_header(tmp_path / "nope.gguf")
    w = gguf.GGUFWriter(str(tmp_path / "model.gguf"), arch="gemma3")
    w.add_tensor("blk.0.attn_q.weight", np.zeros((4, 4), np.float32))
    w.write_header_to_file(); w.write_kv_data_to_file(); w.write_tensors_to_file(); w.close()
    with pytest.raises(UserError, match="not a LoRA"):
        read_adapter_header(tmp_path / "model.gguf")


def test_unknown_architecture(tiny_lora_state, tmp_path):
    with pytest.raises(UserError, match="architecture"):
        write_lora_gguf(tiny_lora_state, tmp_path / "a.gguf", architecture="nonsense", n_layers=2, alpha=8)
