"""The information loss must reach exactly the parameter groups the config says it trains.

Two copies of the same model take one real training step on the same batch, latents and seeds,
one with the information weights and one with them at zero. Whatever L_I trains must differ
between the two afterwards; every other group must be bit-identical.
"""

import copy

import pytest
import torch

from infogan.augment import random_affine
from infogan.config import TrainConfig
from infogan.latent import sample_latent
from infogan.losses import information_loss
from infogan.networks import build_model
from infogan.train import make_optimizers, train_step

GROUPS = ("generator", "trunk", "d_head", "q_head")


def step_with_weights(config: TrainConfig, model, weights: tuple[float, float], **overrides):
    weights = {"info_weight_cat": weights[0], "info_weight_cont": weights[1]}
    config = TrainConfig.from_dict({**config.to_dict(), **weights, **overrides})
    model = copy.deepcopy(model)
    torch.manual_seed(0)
    real = torch.rand(8, 1, 28, 28) * 2 - 1
    latent = sample_latent(model.spec, 8, torch.Generator().manual_seed(1))
    augmented = random_affine(real, torch.Generator().manual_seed(2))
    train_step(model, make_optimizers(model, config), real, latent, config, augmented=augmented)
    return model


def changed_groups(a, b) -> set[str]:
    def differs(group: str) -> bool:
        pairs = zip(getattr(a, group).parameters(), getattr(b, group).parameters(), strict=True)
        return any(not torch.equal(p, q) for p, q in pairs)

    return {group for group in GROUPS if differs(group)}


@pytest.mark.parametrize(
    ("trains_trunk", "expected"),
    [(True, {"generator", "trunk", "q_head"}), (False, {"generator", "q_head"})],
)
def test_information_loss_trains_exactly_the_configured_groups(trains_trunk, expected):
    config = TrainConfig(noise=4, info_trains_trunk=trains_trunk)
    model = build_model(config)
    with_info = step_with_weights(config, model, (1.0, 0.1))
    without_info = step_with_weights(config, model, (0.0, 0.0))
    assert changed_groups(with_info, without_info) == expected


@pytest.mark.parametrize("trains_trunk", [True, False])
def test_every_group_the_step_trains_moves(trains_trunk):
    config = TrainConfig(noise=4, info_trains_trunk=trains_trunk)
    model = build_model(config)
    trained = step_with_weights(config, model, (1.0, 0.1))
    assert changed_groups(trained, model) == set(GROUPS)


@pytest.mark.parametrize("trains_trunk", [True, False])
def test_real_clustering_term_trains_trunk_and_q_head_not_d_head(trains_trunk):
    # G moves too, but only because its step reads the trunk the D step changed
    config = TrainConfig(noise=4, info_trains_trunk=trains_trunk)
    model = build_model(config)
    with_term = step_with_weights(config, model, (1.0, 0.1), real_cluster_weight=1.0)
    without_term = step_with_weights(config, model, (1.0, 0.1))
    assert changed_groups(with_term, without_term) == {"generator", "trunk", "q_head"}


def test_information_gradient_reaches_generator_through_the_trunk():
    config = TrainConfig(noise=4)
    model = build_model(config)
    latent = sample_latent(model.spec, 8)
    fake = model.generator(latent.generator_input(model.spec))
    loss, _ = information_loss(model.q_head(model.trunk(fake)), latent, 1.0, 0.1)
    loss.backward()
    for group in ("generator", "trunk", "q_head"):
        grads = [p.grad for p in getattr(model, group).parameters()]
        assert all(g is not None and g.abs().sum() > 0 for g in grads), group
    assert all(p.grad is None for p in model.d_head.parameters())
