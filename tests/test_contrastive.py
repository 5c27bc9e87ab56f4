"""InfoGAN-CR's contrastive regulariser: pair sampling, schedule, which parameters L_CR trains, and that
it leaves training untouched while off."""

import copy

import pytest
import torch

from infogan import contrastive
from infogan.config import TrainConfig
from infogan.contrastive import ContrastiveHead, active, contrastive_loss, gap_at, partner_codes
from infogan.latent import sample_latent
from infogan.networks import build_model
from infogan.train import make_optimizers, train_step


def small_config(**overrides) -> TrainConfig:
    values = {"noise": 4, "categorical": (3,), "continuous": 3, "batch_size": 8, **overrides}
    return TrainConfig(**values).validate()


@pytest.mark.parametrize("gap", [0.0, 0.5, 0.9])
def test_partner_codes_share_one_code_and_keep_the_gap(gap):
    torch.manual_seed(0)
    codes = torch.rand(2000, 4) * 2 - 1
    shared = torch.randint(4, (2000,))
    partner = partner_codes(codes, shared, gap)
    rows = torch.arange(2000)
    assert torch.equal(partner[rows, shared], codes[rows, shared])
    others = torch.ones_like(codes, dtype=torch.bool)
    others[rows, shared] = False
    assert (partner[others] - codes[others]).abs().min() >= gap - 1e-6
    assert partner.min() >= -1 and partner.max() <= 1
    assert (partner[others] - codes[others]).abs().max() > gap + 0.5  # drawn over the whole allowed range


def test_schedule():
    assert not active(5, 0.0, 0) and not active(4, 1.0, 5) and active(5, 1.0, 5)
    assert gap_at(10, cr_start=10, cr_gap=0.5, cr_gap_steps=3) == 0.5
    assert gap_at(12, 10, 0.5, 3) == 0.5 and gap_at(13, 10, 0.5, 3) == 0.0


def test_head_names_the_shared_code_from_a_pair_of_any_size():
    for size in (28, 64):
        head = ContrastiveHead(size, 1, 5)
        assert head(torch.zeros(3, 1, size, size), torch.zeros(3, 1, size, size)).shape == (3, 5)


def test_cr_loss_trains_g_and_its_head_only():
    torch.manual_seed(0)
    config = small_config(cr_weight=1.0)
    model = build_model(config)
    latent = sample_latent(model.spec, 8, torch.Generator().manual_seed(1))
    fake = model.generator(latent.generator_input(model.spec))
    contrastive_loss(model, latent, fake, gap=0.0).backward()
    for name, module in (("generator", model.generator), ("cr_head", model.cr_head)):
        grads = [p.grad for p in module.parameters()]
        assert all(g is not None for g in grads) and sum(g.abs().sum() for g in grads) > 0, name
    for module in (model.trunk, model.d_head, model.q_head):
        assert all(p.grad is None for p in module.parameters())


def test_train_step_with_cr_updates_the_head_and_logs_its_loss():
    torch.manual_seed(0)
    config = small_config(cr_weight=1.0, cr_start=1)
    model = build_model(config)
    optimizers = make_optimizers(model, config)
    before = copy.deepcopy(model.cr_head.state_dict())
    real = torch.rand(8, 1, 28, 28) * 2 - 1
    generator = torch.Generator().manual_seed(1)
    out = train_step(model, optimizers, real, sample_latent(model.spec, 8, generator), config, step=0)
    assert "loss_cr" not in out  # before --cr-start
    assert all(torch.equal(before[k], v) for k, v in model.cr_head.state_dict().items())
    out = train_step(model, optimizers, real, sample_latent(model.spec, 8, generator), config, step=1)
    assert 0 < out["loss_cr"] < 10
    assert any(not torch.equal(before[k], v) for k, v in model.cr_head.state_dict().items())


def test_weight_zero_leaves_training_unchanged_bit_for_bit(monkeypatch):
    """With --cr-weight 0 the regulariser is never computed, and a model with the head but the regulariser
    not started yet steps exactly like one without it: same weights, same random stream."""

    def never(*args, **kwargs):
        raise AssertionError("the contrastive loss ran with --cr-weight 0")

    monkeypatch.setattr(contrastive, "contrastive_loss", never)
    torch.manual_seed(0)
    plain_config = small_config()
    plain = build_model(plain_config)
    assert plain.cr_head is None and "cr" not in make_optimizers(plain, plain_config)
    waiting_config = small_config(cr_weight=2.0, cr_start=10)
    waiting = copy.deepcopy(plain)
    waiting.cr_head = ContrastiveHead(28, 1, 3)
    optimizers = {"plain": make_optimizers(plain, plain_config), "waiting": make_optimizers(waiting, waiting_config)}
    real = torch.rand(8, 1, 28, 28) * 2 - 1
    states = {}
    for name, model, config in (("plain", plain, plain_config), ("waiting", waiting, waiting_config)):
        torch.manual_seed(5)
        generator = torch.Generator().manual_seed(1)
        for step in range(3):
            train_step(model, optimizers[name], real, sample_latent(model.spec, 8, generator), config, step=step)
        states[name] = ({k: v for k, v in model.state_dict().items() if not k.startswith("cr_head")}, torch.rand(3))
    assert states["plain"][0].keys() == states["waiting"][0].keys()
    assert all(torch.equal(states["plain"][0][k], states["waiting"][0][k]) for k in states["plain"][0])
    assert torch.equal(states["plain"][1], states["waiting"][1])
