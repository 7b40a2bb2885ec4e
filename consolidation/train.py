"""LoRA training on question/answer pairs, loss on the answer tokens only.

Only the answer positions go through the LM head: with a 262k-token vocabulary the head
dominates the cost, and computing it for prompt tokens would be wasted work.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Callable, Sequence

from consolidation.prompt import PromptFormat

ALL_LINEAR = ("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj")


@dataclass
class LoraTrainConfig:
    rank: int = 16
    alpha: float = 32.0
    learning_rate: float = 1e-3
    steps: int = 60
    batch_size: int = 8
    target_modules: Sequence[str] = ALL_LINEAR
    layers: Sequence[int] | None = None  # None: every layer
    seed: int = 0
    weight_decay: float = 0.0


@dataclass
class Example:
    """One training item: a question rendered in the engine's prompt, and its answer."""

    question: str
    answer: str
    weight: float = 1.0


@dataclass
class TrainResult:
    model: object  # the PeftModel
    losses: list[float] = field(default_factory=list)
    tokens: int = 0


def encode(tokenizer, fmt: PromptFormat, ex: Example) -> tuple[list[int], int]:
    """(token ids of prompt + answer, number of prompt tokens) — as llama.cpp would see them."""
    prompt_ids = tokenizer(fmt.render(ex.question), add_special_tokens=True)["input_ids"]
    answer_ids = tokenizer(fmt.answer_text(ex.answer), add_special_tokens=False)["input_ids"]
    return prompt_ids + answer_ids, len(prompt_ids)


def attach_lora(model, cfg: LoraTrainConfig):
    """Wrap a frozen base model with fresh LoRA layers."""
    from peft import LoraConfig, get_peft_model

    lora = LoraConfig(
        r=cfg.rank, lora_alpha=cfg.alpha, lora_dropout=0.0, bias="none",
        target_modules=list(cfg.target_modules),
        layers_to_transform=list(cfg.layers) if cfg.layers is not None else None,
        task_type="CAUSAL_LM",
    )
    return get_peft_model(model, lora)


def answer_loss(peft_model, batch: list[tuple[list[int], int]], weights: Sequence[float] | None = None):
    """Mean cross-entropy over answer tokens of a right-padded batch."""
    import torch
    import torch.nn.functional as F

    causal_lm = peft_model.get_base_model()
    device = next(causal_lm.parameters()).device
    width = max(len(ids) for ids, _ in batch)
    pad = 0
    input_ids = torch.full((len(batch), width), pad, dtype=torch.long)
    attention = torch.zeros((len(batch), width), dtype=torch.long)
    rows, cols, targets, row_w = [], [], [], []
    for i, (ids, n_prompt) in enumerate(batch):
        input_ids[i, : len(ids)] = torch.tensor(ids)
        attention[i, : len(ids)] = 1
        for pos in range(n_prompt - 1, len(ids) - 1):  # position pos predicts token pos+1
            rows.append(i)
            cols.append(pos)
            targets.append(ids[pos + 1])
            row_w.append(1.0 if weights is None else weights[i])
    hidden = causal_lm.model(input_ids=input_ids.to(device), attention_mask=attention.to(device)).last_hidden_state
    picked = hidden[torch.tensor(rows, device=device), torch.tensor(cols, device=device)]
    logits = causal_lm.lm_head(picked).float()
    cap = getattr(causal_lm.config, "final_logit_softcapping", None)
    if cap:
        logits = torch.tanh(logits / cap) * cap
    per_token = F.cross_entropy(logits, torch.tensor(targets, device=device), reduction="none")
    w = torch.tensor(row_w, device=device)
    return (per_token * w).sum() / w.sum(), len(targets)


def train_lora(
    model, tokenizer, fmt: PromptFormat, examples: Sequence[Example], cfg: LoraTrainConfig,
    on_step: Callable[[int, float], None] | None = None,
) -> TrainResult:
    """Train fresh LoRA layers on `examples`; returns the PeftModel (base weights untouched)."""
    import torch

    if not examples:
        raise ValueError("no training examples")
    torch.manual_seed(cfg.seed)
    rng = random.Random(cfg.seed)
    peft_model = attach_lora(model, cfg)
    peft_model.train()
    encoded = [(encode(tokenizer, fmt, ex), ex.weight) for ex in examples]
    params = [p for p in peft_model.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=cfg.learning_rate, weight_decay=cfg.weight_decay)
    result = TrainResult(model=peft_model)
    order: list[int] = []
    for step in range(cfg.steps):
        batch_idx = []
        while len(batch_idx) < min(cfg.batch_size, len(encoded)):
            if not order:
                order = list(range(len(encoded)))
                rng.shuffle(order)
            batch_idx.append(order.pop())
        batch = [encoded[i][0] for i in batch_idx]
        loss, n = answer_loss(peft_model, batch, [encoded[i][1] for i in batch_idx])
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        result.losses.append(loss.item())
        result.tokens += sum(len(ids) for ids, _ in batch)
        if on_step:
            on_step(step + 1, result.losses[-1])
    peft_model.eval()
    return result


def lora_state_dict(peft_model) -> dict:
    """The LoRA weights only (PEFT key names)."""
    from peft import get_peft_model_state_dict

    return get_peft_model_state_dict(peft_model)
