import pytest

from config import UserError
from consolidation.registry import Registry


def _publish(reg, facts):
    staging = reg.stage()
    (staging / "s001").mkdir()
    (staging / "s001" / "adapter.gguf").write_bytes(b"x")
    return reg.commit(staging, {"facts": facts, "shards": [{"id": "s001", "facts": facts}]})


def test_versions_current_and_rollback(agent_home):
    reg = Registry(agent_home)
    assert reg.current() is None and reg.versions() == []
    v1 = _publish(reg, ["a"])
    reg.set_current(v1)
    v2 = _publish(reg, ["a", "b"])
    assert (v1.name, v2.name) == ("v0001", "v0002")
    assert reg.current().name == "v0001"  # publishing does not switch by itself
    reg.set_current(v2)
    assert reg.current().manifest["facts"] == ["a", "b"]
    assert reg.current().manifest["version"] == "v0002"
    reg.set_current(reg.get("1"))
    assert reg.current().name == "v0001"
    reg.set_current(None)
    assert reg.current() is None


def test_half_written_versions_are_invisible_and_cleaned(agent_home):
    reg = Registry(agent_home)
    staging = reg.stage()
    (staging / "adapter.gguf").write_bytes(b"partial")
    assert reg.versions() == []
    assert reg.clean() == [staging.name]
    assert not staging.exists()


def test_unknown_version(agent_home):
    with pytest.raises(UserError):
        Registry(agent_home).get("v0042")


def test_an_unchanged_shard_is_carried_as_hard_links_and_each_shard_is_hashed(agent_home):
    from config.models import file_sha256

    reg = Registry(agent_home)
    v1 = _publish(reg, ["a"])
    staging = reg.stage()
    carried = reg.carry(staging, v1.shards[0])
    (staging / "s002").mkdir()
    (staging / "s002" / "adapter.gguf").write_bytes(b"y")
    v2 = reg.commit(staging, {"facts": ["a", "b"], "shards": [{"id": "s001", "facts": ["a"]},
                                                              {"id": "s002", "facts": ["b"]}]})
    assert carried.name == "s001" and [s.facts for s in v2.shards] == [("a",), ("b",)]
    assert (v2.path / "s001" / "adapter.gguf").stat().st_ino == v1.shards[0].gguf.stat().st_ino
    assert all(s.sha256 == file_sha256(s.gguf) for s in v2.shards)


def test_a_version_from_before_shards_reads_as_one_shard(agent_home):
    import json

    old = agent_home / "adapters" / "v0001"
    old.mkdir(parents=True)
    (old / "adapter.gguf").write_bytes(b"x")
    (old / "manifest.json").write_text(json.dumps({"facts": [{"id": "f1"}, {"id": "f2"}], "adapter_sha256": "ab"}))
    [only] = Registry(agent_home).get("v0001").shards
    assert (only.id, only.path, only.facts, only.sha256) == ("s001", old, ("f1", "f2"), "ab")
