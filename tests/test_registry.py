import pytest

from config import UserError
from consolidation.registry import Registry


def _publish(reg, facts):
    staging = reg.stage()
    (staging / "adapter.gguf").write_bytes(b"x")
    return reg.commit(staging, {"facts": facts})


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
