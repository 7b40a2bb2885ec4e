"""The write-path gate: what may enter the fact ledger at all.

Poisoned memory is stopped on the way in, not filtered on the way out (arXiv 2605.08442): a
statement is refused, with the reason recorded on a `rejected` fact, when

* its turn is **role-shaped**: transcript or chat-template markers ("### System:", "Assistant:",
  <start_of_turn>, [INST], <|im_start|>) — someone else's voice or an attempt to fake one;
* its turn is **instruction-shaped**: it talks to the model ("ignore previous instructions",
  "from now on you", "you are now", "when asked, say", "system prompt");
* its value is **not plausible** for the attribute: account words as a name ("admin", "root"),
  markup or code ("<script>", "{{…}}", "'; DROP"), links, placeholders ("null"), a "name" of
  more than four words;
* its turn carries an **injection payload** (SQL, script handlers, template or shell expansion),
  whatever value the extractor took from it.

Pasted and quoted text never gets this far: `memory.voice` drops it before extraction.
"""

from __future__ import annotations

import re

from memory.shapes import is_name

__all__ = ["refusal"]

_ROLE = re.compile(
    r"(?im)^\s*(?:#{1,6}\s*)?(?:system|assistant|user|human|developer)\s*:|^\s*#{1,6}\s*(?:system|assistant|user)\b"
    r"|<\|[^|<>\s]{1,40}\|>|</?(?:start_of_turn|end_of_turn|s|bos|eos|im_start|im_end)>|\[/?INST\]|<</?SYS>>"
    r"|\[\s*system\b|\"role\"\s*:\s*\"(?:system|tool|assistant|user|developer|function)\""
)
_INSTRUCTION = re.compile(
    r"(?i:\b(?:ignore|disregard|forget|override|bypass)\b(?:\W+\w+){0,3}?\W+(?:instructions?|prompts?|rules|"
    r"guidelines|directives?)\b"
    r"|\b(?:system|developer|hidden)\s+prompt\b|\bnew\s+instructions?\b|\byou\s+are\s+now\b"
    r"|\bfrom\s+now\s+on,?\s+you\b|\bwhen(?:ever)?\s+(?:asked|anyone\s+asks|someone\s+asks|the\s+user\s+asks)\b"
    r"|(?:^|[.!?:]\s*|\byou\s+(?:must|should|will)\s+)(?:always|only)\s+(?:answer|respond|reply|say)\b"
    r"|\bpretend\s+(?:to\s+be|you\s*(?:are|'re))\b|\bjailbreak|\bdeveloper\s+mode\b|\bdo\s+anything\s+now\b"
    r"|\b(?:your|a)\s+new\s+(?:rules?|truth|directive|persona)\b|\bnew\s+truth\b|\bobey\b|\binstructing\s+you\b"
    r"|\bforget\s+everything\s+you\b|\bconfirm\s+by\s+(?:replying|saying)\b)"
    r"|\bDAN\b"
)
_PLACEHOLDER = {"admin", "administrator", "root", "superuser", "sysadmin", "system", "user", "assistant", "model",
                "null", "none", "nil", "undefined", "nan", "true", "false", "unknown", "n/a", "test", "guest",
                "anonymous", "username", "name"}
_CODE = re.compile(r"[<>{}\[\]|\\`;]|--|\bhttps?:|\bwww\.|\bdrop\s+table\b|\bselect\s+\*", re.IGNORECASE)
# an injection payload anywhere in the turn: SQL, script/HTML handlers, template or shell expansion
_PAYLOAD = re.compile(r"'\s*\)\s*;|\bdrop\s+table\b|<\s*script|\bon(?:error|load)\s*=|\$\{|\$\(|\{\{|`[^`]*`|"
                      r"\brm\s+-rf\b|\|\s*(?:ba)?sh\b", re.IGNORECASE)


def refusal(attribute: str, value: str, turn: str) -> str | None:
    """Why a statement `attribute: value` from the user turn `turn` may not become a fact, or None."""
    if _ROLE.search(turn):
        return "role-shaped text (transcript or chat-template markers)"
    if _INSTRUCTION.search(turn):
        return "instruction-shaped text (addressed to the model)"
    if _PAYLOAD.search(turn):
        return "an injection payload (code, markup or shell) in the turn"
    v = value.strip().casefold()
    if _CODE.search(value) or "[redacted" in v:
        return f"not a plausible {attribute}: {value!r} looks like markup, code or a link"
    named = re.search(rf"\b(?:name\s+is|name's|called|call\s+me)\s+{re.escape(value.strip())}\b", turn, re.IGNORECASE)
    if is_name(attribute) or named:  # a name, whatever attribute the extractor gave it
        if v in _PLACEHOLDER:
            return f"not a plausible {attribute}: {value!r} is an account or placeholder word"
        if len(v.split()) > 4:
            return f"not a plausible {attribute}: {value!r} is too long for a name"
    return None
