import copy

import torch

from consolidation.prompt import PromptFormat
from consolidation.train import Example, LoraTrainConfig, answer_loss, attach_lora, encode, train_lora, worst_losses


def test_encode_marks_prompt_length(tiny_gemma):
    _, tok = tiny_gemma
    ids, n_prompt = encode(tok, PromptFormat(), Example("Q?", "A."))
    prompt = PromptFormat().render("Q?")
    assert n_prompt == len(prompt.encode()) + 1  # + BOS
    assert tok.decode(ids[n_prompt:]) == " A.\n\n"


def test_answer_loss_equals_masked_full_loss(tiny_gemma):
    model, tok = tiny_gemma
    peft_model = attach_lora(copy.deepcopy(model), LoraTrainConfig(rank=2))
    ids, n_prompt = encode(tok, PromptFormat(), Example("Q?", "A."))
    ours, n = answer_loss(peft_model, [(ids, n_prompt)])
    labels = torch.tensor([[-100] * n_prompt + ids[n_prompt:]])
    full = peft_model(input_ids=torch.tensor([ids]), labels=labels).loss
    assert n == len(ids) - n_prompt
    assert torch.allclose(ours, full, atol=1e-5)


def base_weights(model) -> dict:
    """A model's own weights under their original names, with any LoRA layers left out."""
    return {k.replace(".base_layer", ""): v for k, v in model.state_dict().items() if "lora_" not in k}


def test_training_learns_and_leaves_base_untouched(tiny_gemma):
    model, tok = tiny_gemma
    base = copy.deepcopy(model)  # the fixture is shared by other tests: train a copy
    before = {k: v.clone() for k, v in base.state_dict().items()}
    examples = [Example("What is my dog's name?", "Pepper."), Example("Who is Pepper?", "Your dog.")]
    result = train_lora(base, tok, PromptFormat(), examples, LoraTrainConfig(rank=8, alpha=16, steps=60, learning_rate=1e-2))
    assert result.losses[-1] < 0.5 * result.losses[0]
    after = base_weights(result.model.get_base_model())  # the model that was trained
    assert after.keys() == before.keys()
    assert all(torch.equal(before[k], v) for k, v in after.items())
    trainable = [n for n, p in result.model.named_parameters() if p.requires_grad]
    assert trainable and all("lora_" in n for n in trainable)


def test_shards_train_one_after_another_on_the_same_base_model(tiny_gemma):
    """The pipeline trains shard after shard on one loaded model: `unload()` must give back the
    bare base model, so each shard starts from fresh LoRA layers on untouched weights."""
    model, tok = tiny_gemma
    base = copy.deepcopy(model)
    before = {k: v.clone() for k, v in base.state_dict().items()}
    cfg = LoraTrainConfig(rank=4, alpha=8, steps=30, learning_rate=1e-2)
    first = train_lora(base, tok, PromptFormat(), [Example("What is my dog's name?", "Pepper.")], cfg)
    n_lora = len([n for n, _ in first.model.named_parameters() if "lora_A" in n])
    bare = first.model.unload()
    assert bare.state_dict().keys() == before.keys()
    assert all(torch.equal(before[k], v) for k, v in bare.state_dict().items())
    second = train_lora(bare, tok, PromptFormat(), [Example("Where do I live?", "Oslo.")], cfg)
    names = [n for n, _ in second.model.named_parameters() if "lora_A" in n]
    assert n_lora and len(names) == n_lora  # no LoRA on LoRA
    assert second.losses[0] > 0.5 * first.losses[0]  # it did not start from the first shard's weights


def test_prefix_cache_gives_the_same_loss(tiny_gemma):
    model, tok = tiny_gemma
    peft_model = attach_lora(copy.deepcopy(model), LoraTrainConfig(rank=2))
    for name, p in peft_model.named_parameters():
        if "lora_B" in name:
            p.data.normal_(0, 0.1)  # make the adapter matter
    batch = [encode(tok, PromptFormat(), Example(q, a)) for q, a in
             [("What is my dog's name?", "Pepper."), ("Who is Pepper, really?", "Your dog."), ("Hm?", "Yes.")]]
    plain, n1, rows1 = answer_loss(peft_model, batch, [1.0, 2.0, 0.5], per_row=True)
    cached, n2, rows2 = answer_loss(peft_model, batch, [1.0, 2.0, 0.5], per_row=True, prefix_cache=True)
    assert n1 == n2
    assert torch.allclose(plain, cached, atol=1e-5)
    assert torch.allclose(rows1, rows2, atol=1e-5)
    means = [answer_loss(peft_model, [row])[0].item() for row in batch]
    assert all(w >= m - 1e-6 for w, m in zip(rows1.tolist(), means))  # per row: its worst token,
    assert any(w > m + 1e-3 for w, m in zip(rows1.tolist(), means))  # which is not the row's mean


def test_an_early_stop_holds_for_the_weights_it_returns(tiny_gemma):
    """Losses seen steps ago are stale (later steps can undo them): when training stops early,
    every example must be below the stop under the weights it returns."""
    model, tok = tiny_gemma
    facts = [("What is my dog's name?", "Pepper."), ("Where do I live?", "Tromsø."), ("What do I do?", "Welder."),
             ("Who is my sister?", "Ingrid."), ("What do I drink?", "Tea."), ("Which car do I drive?", "A Volvo.")]
    examples = [Example(q, a) for q, a in facts]
    cfg = LoraTrainConfig(rank=8, alpha=16, steps=300, learning_rate=2e-2, batch_size=2)
    result = train_lora(copy.deepcopy(model), tok, PromptFormat(), examples, cfg, stop_loss=2.0)
    assert result.stopped_early and result.steps < cfg.steps
    encoded = [encode(tok, PromptFormat(), ex) for ex in examples]
    assert max(worst_losses(result.model, encoded, range(len(examples)), 4).values()) < 2.0  # 2.34 if stale


def test_the_stop_s_scoring_ends_at_the_first_batch_holding_a_loss_above_it(tiny_gemma):
    """A failed check before stopping costs one batch, not a pass over every example."""
    model, tok = tiny_gemma
    peft = attach_lora(copy.deepcopy(model), LoraTrainConfig(rank=4, alpha=8))
    encoded = [encode(tok, PromptFormat(), Example(f"What is my pet number {i} called?", "Pepper.")) for i in range(6)]
    every = worst_losses(peft, encoded, range(6), 2)
    assert len(every) == 6 and min(every.values()) > 0.5
    assert list(worst_losses(peft, encoded, [4, 5, 0, 1, 2, 3], 2, until=0.5)) == [4, 5]
    assert len(worst_losses(peft, encoded, range(6), 2, until=1e9)) == 6  # none above: every one scored


def test_bf16_training_learns_and_its_stop_is_scored_in_fp32(tiny_gemma):
    from consolidation.base_model import uses_bf16

    assert uses_bf16("bf16", "cpu") and not uses_bf16("fp32", "cuda")
    model, tok = tiny_gemma
    examples = [Example("What is my dog's name?", "Pepper."), Example("Where do I live?", "Tromsø.")]
    cfg = LoraTrainConfig(rank=8, alpha=16, steps=300, learning_rate=2e-2, batch_size=2, bf16=True)
    result = train_lora(copy.deepcopy(model), tok, PromptFormat(), examples, cfg, stop_loss=1.0)
    assert result.stopped_early and result.losses[-1] < 0.5 * result.losses[0]
    encoded = [encode(tok, PromptFormat(), ex) for ex in examples]
    assert max(worst_losses(result.model, encoded, range(2), 2).values()) < 1.0


def lora_weights(peft_model) -> dict:
    return {k: v.detach().clone() for k, v in peft_model.named_parameters() if "lora_" in k}


def test_a_grown_shard_trains_on_from_its_saved_adapter_of_the_same_shape_only(tiny_gemma, tmp_path):
    from consolidation.train import resume_lora

    model, tok = tiny_gemma
    cfg = LoraTrainConfig(rank=4, alpha=8, steps=40, learning_rate=1e-2)
    pepper = [Example("What is my dog's name?", "Pepper.")]
    first = train_lora(copy.deepcopy(model), tok, PromptFormat(), pepper, cfg)
    first.model.save_pretrained(tmp_path)
    saved = lora_weights(first.model)
    bare = first.model.unload()

    assert resume_lora(bare, tmp_path, LoraTrainConfig(rank=8, alpha=8)) is None  # another rank
    assert resume_lora(bare, tmp_path, LoraTrainConfig(rank=4, alpha=8, target_modules=("q_proj",))) is None
    assert resume_lora(bare, tmp_path / "missing", cfg) is None
    assert not any("lora_" in k for k in bare.state_dict())  # a refusal leaves the model bare
    resumed = resume_lora(bare, tmp_path, cfg)
    assert all(torch.equal(saved[k], v) for k, v in lora_weights(resumed).items()) and len(saved) > 0
    assert all(p.requires_grad for k, p in resumed.named_parameters() if "lora_" in k)
    more = train_lora(bare, tok, PromptFormat(), pepper + [Example("Where do I live?", "Oslo.")], cfg, start=resumed)
    assert more.model is resumed
    pepper_loss = answer_loss(more.model, [encode(tok, PromptFormat(), pepper[0])])[0].item()
    assert pepper_loss < 0.5 * first.losses[0]  # it did not start over


def test_a_wrong_learned_hint_cannot_stop_training_early(tiny_gemma):
    """`learned` only orders the batches: the stop still scores every example again."""
    model, tok = tiny_gemma
    examples = [Example("What is my dog's name?", "Pepper."), Example("Where do I live?", "Oslo."),
                Example("Who do I work for?", "Lumen.")]
    cfg = LoraTrainConfig(rank=8, alpha=16, steps=200, learning_rate=1e-2, focus=True)
    result = train_lora(copy.deepcopy(model), tok, PromptFormat(), examples, cfg, stop_loss=1.0,
                        learned=[False, True, True])  # the last two are not known at all
    assert result.stopped_early and result.rescores >= 1
    encoded = [encode(tok, PromptFormat(), ex) for ex in examples]
    assert max(worst_losses(result.model, encoded, [0, 1, 2], 3).values()) < 1.0

