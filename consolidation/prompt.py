"""The prompt format shared by inference (the engine) and training (consolidation).

A LoRA learns answers in the exact token context it is trained in, so both sides render
questions through `PromptFormat`. Two styles:

- `plain`: a short transcript with two worked examples; works with base (non-instruct) models,
  which is what the embedded Gemma 3 270M is.
- `chat`: the model's own chat template (from the GGUF metadata), for instruct models.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, Sequence

PREAMBLE = (
    "A conversation between a user and an assistant. "
    "The assistant answers each question in one short, true sentence.\n\n"
    "User: What is the capital of Italy?\n"
    "Assistant: The capital of Italy is Rome.\n\n"
    "User: How many legs does a spider have?\n"
    "Assistant: A spider has eight legs.\n\n"
)
PLAIN_STOPS = ["\nUser:", "\n\n"]
CHAT_STOPS = ["<end_of_turn>", "<|im_end|>", "<|eot_id|>", "<|end|>", "</s>"]
INSTRUCT_HINTS = ("-it", "_it", "instruct", "chat")

Message = tuple[str, str]  # (role, text), role in {"user", "assistant"}

# text shaped like a model's control token: <|im_start|>, <start_of_turn>, </s>, [INST], <<SYS>>...
_CONTROL = re.compile(
    r"<\|[^|<>\s]{1,40}\|>|</?(?:s|bos|eos|pad|unk|mask|start_of_turn|end_of_turn|start_of_image|end_of_image|"
    r"unused\d+|im_start|im_end|think|tool_call|tool_response)>|\[/?INST\]|<</?SYS>>",
    re.IGNORECASE,
)


def neutralise(text: str, one_line: bool = False) -> str:
    """User or stored text made safe to put in a prompt: control-token look-alikes lose their angle
    brackets (‹start_of_turn›), so no tokenizer turns them into control tokens, and with `one_line`
    line breaks become spaces, so "\nAssistant: ..." inside a turn cannot start a transcript turn."""
    text = _CONTROL.sub(lambda m: m.group(0).replace("<", "‹").replace(">", "›").replace("[", "⟦").replace("]", "⟧"), text)
    return " ".join(text.split()) if one_line else text.strip()


@dataclass(frozen=True)
class PromptFormat:
    """Renders (history, question) into the model's prompt; `stops` end an answer."""

    style: Literal["plain", "chat"] = "plain"
    chat_template: str | None = None
    bos_token: str = ""
    stops: list[str] = field(default_factory=lambda: list(PLAIN_STOPS))

    def render(self, question: str, history: Sequence[Message] = (), context: Sequence[str] = ()) -> str:
        """Prompt for the next assistant answer. `context` (recalled turns) goes first.

        Every text is data: `neutralise`d, and on one line each in the plain transcript."""
        plain = self.style == "plain"
        question = neutralise(question, plain)
        history = [(role, neutralise(text, plain)) for role, text in history]
        context = [neutralise(c, one_line=True) for c in context]
        if not plain:
            return self._render_chat(question, history, context)
        parts = [PREAMBLE]
        if context:
            parts.append("Things the user said earlier:\n" + "".join(f"- {c}\n" for c in context) + "\n")
        for role, text in history:
            parts.append(f"{'User' if role == 'user' else 'Assistant'}: {text}\n")
            if role != "user":
                parts.append("\n")
        parts.append(f"User: {question}\nAssistant:")
        return "".join(parts)

    def answer_text(self, answer: str) -> str:
        """The completion the model should produce for `answer` (what training targets)."""
        return (" " + answer.strip() + "\n\n") if self.style == "plain" else answer.strip() + self.stops[0]

    def _render_chat(self, question: str, history: Sequence[Message], context: Sequence[str]) -> str:
        import jinja2

        messages = [{"role": r, "content": t} for r, t in history]
        if context:
            question = "Things I said earlier:\n" + "".join(f"- {c}\n" for c in context) + f"\n{question}"
        messages.append({"role": "user", "content": question})

        def raise_exception(msg):
            raise ValueError(msg)

        env = jinja2.Environment(loader=jinja2.BaseLoader(), trim_blocks=True, lstrip_blocks=True)
        template = env.from_string(self.chat_template or "")
        # llama.cpp adds BOS itself when tokenizing; render without it to avoid a double BOS.
        return template.render(
            messages=messages, add_generation_prompt=True, bos_token="", eos_token="",
            raise_exception=raise_exception,
        )


def choose_format(
    setting: Literal["auto", "plain", "chat"], model_name: str, chat_template: str | None
) -> PromptFormat:
    """Pick the prompt style: `auto` uses the chat template only for instruct-looking models."""
    if setting == "auto":
        looks_instruct = any(h in model_name.lower() for h in INSTRUCT_HINTS)
        setting = "chat" if (chat_template and looks_instruct) else "plain"
    if setting == "chat":
        if not chat_template:
            from config import UserError

            raise UserError("model.prompt_format=chat but the model has no chat template")
        end = turn_end(chat_template)
        return PromptFormat(style="chat", chat_template=chat_template, stops=[end, *(s for s in CHAT_STOPS if s != end)])
    return PromptFormat()


def turn_end(chat_template: str) -> str:
    """The marker this template writes after an assistant message (<end_of_turn>, <|im_end|>,
    <|eot_id|>…): what training appends to an answer, so the model learns to stop as it was taught."""
    import jinja2

    probe = "\x00answer\x00"
    try:
        env = jinja2.Environment(loader=jinja2.BaseLoader(), trim_blocks=True, lstrip_blocks=True)
        text = env.from_string(chat_template).render(
            messages=[{"role": "user", "content": "q"}, {"role": "assistant", "content": probe}],
            add_generation_prompt=False, bos_token="", eos_token="</s>")
    except Exception:  # noqa: BLE001 - an unusual template: keep the common default
        return CHAT_STOPS[0]
    after = text.partition(probe)[2].split()
    return after[0] if after else CHAT_STOPS[0]


def format_for_model(setting: Literal["auto", "plain", "chat"], gguf_path) -> PromptFormat:
    """The format the engine will use for this GGUF (read from its metadata, no model load)."""
    from consolidation.gguf_header import read_gguf_header

    meta = read_gguf_header(gguf_path).metadata
    name = meta.get("general.name") or ""
    return choose_format(setting, f"{name} {Path(gguf_path).name}", meta.get("tokenizer.chat_template"))
