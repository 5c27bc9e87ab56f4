"""infogan's training step computes the same update as the textbook loop, written out here plainly:
full backward passes, unfused Adam, losses from torch.nn.functional."""

import copy
import dataclasses

import pytest
import torch
import torch.nn.functional as F

from infogan import imsat
from infogan.config import TrainConfig, preset_config
from infogan.latent import sample_latent
from infogan.networks import build_model
from infogan.train import compile_networks, make_optimizers, train_step


def plain_step(model, real, latent, config):
    spec, betas = model.spec, (config.beta1, config.beta2)
    opt_d = torch.optim.Adam([*model.trunk.parameters(), *model.d_head.parameters()], config.lr_d, betas, foreach=False)
    opt_g = torch.optim.Adam(model.generator.parameters(), config.lr_g, betas, foreach=False)
    opt_q = torch.optim.Adam(model.q_head.parameters(), config.lr_q, betas, foreach=False)

    def info(features):
        logits, means, _ = model.q_head(features)
        cat = sum(F.cross_entropy(lg, latent.categorical[:, i]) for i, lg in enumerate(logits))
        return config.info_weight_cat * cat + config.info_weight_cont * F.gaussian_nll_loss(
            means, latent.continuous, torch.ones_like(means), full=True, reduction="sum"
        ) / len(means)

    fake = model.generator(latent.generator_input(spec))
    opt_d.zero_grad()
    opt_q.zero_grad()
    real_logits = model.d_head(model.trunk(real)).squeeze(1)
    fake_features = model.trunk(fake.detach())
    fake_logits = model.d_head(fake_features).squeeze(1)
    loss_d = F.binary_cross_entropy_with_logits(real_logits, torch.ones_like(real_logits))
    loss_d = loss_d + F.binary_cross_entropy_with_logits(fake_logits, torch.zeros_like(fake_logits))
    (loss_d + info(fake_features)).backward()
    opt_d.step()
    opt_q.step()
    opt_g.zero_grad()
    features = model.trunk(fake)
    logits = model.d_head(features).squeeze(1)
    (F.binary_cross_entropy_with_logits(logits, torch.ones_like(logits)) + info(features)).backward()
    opt_g.step()


def assert_one_step_matches_the_plain_loop(
    compile_mode: str, mean_tolerance: float, worst: float, device: str = "cpu"
) -> None:
    """Mean weight difference at most mean_tolerance x the mean update; every element within worst x lr.

    infogan's step runs on `device`, the plain loop on the CPU (tests/test_cuda.py compares the two devices).
    """
    config = TrainConfig(noise=8, categorical=(10, 4), continuous=3)
    torch.manual_seed(0)
    model = build_model(config)
    reference, initial = copy.deepcopy(model), copy.deepcopy(model.state_dict())
    model.to(device)
    compile_networks(model, compile_mode)
    real = torch.rand(16, 1, 28, 28) * 2 - 1
    latent = sample_latent(model.spec, 16, torch.Generator().manual_seed(1))
    train_step(model, make_optimizers(model, config), real.to(device), latent.to(device), config)
    plain_step(reference, real, latent, config)
    # Adam's first step is about lr * sign(gradient): where a gradient is ~0, rounding can flip that
    # sign, so compare the mean difference to the mean update, and bound the worst element.
    for name, ours in model.state_dict().items():
        ours = ours.cpu()
        if ours.is_floating_point():
            theirs, update = reference.state_dict()[name], (ours - initial[name]).abs().mean()
            assert (ours - theirs).abs().mean() <= mean_tolerance * update + 1e-9, name
            assert (ours - theirs).abs().max() <= worst * config.lr_g, name


def test_one_step_matches_the_plain_loop():
    assert_one_step_matches_the_plain_loop("none", mean_tolerance=1e-3, worst=1.0)


@pytest.mark.slow
def test_one_compiled_step_matches_the_plain_loop():
    """--compile changes how the step runs, not what it computes (about a minute of compiling on CPU).

    Compiled kernels sum in another order: on 2 threads about 1% of G's elements, those whose gradient
    is within rounding of 0, take Adam's first step with the other sign (measured: mean difference
    1-3% of the mean update, 2 lr at worst); a dropped or wrong gradient would differ by the whole
    update or more.
    """
    assert_one_step_matches_the_plain_loop("default", mean_tolerance=0.1, worst=2.01)


BF16_CASES = {
    "paper MNIST networks": TrainConfig(noise=8, categorical=(10, 4), continuous=3),
    "mnist preset, IMSAT term": preset_config("mnist"),
    "dsprites preset, small networks": preset_config("dsprites"),
}


@pytest.mark.parametrize("case", BF16_CASES)
def test_bf16_autocast_step_on_the_cpu_stays_close_to_the_float32_step(case):
    """--precision bf16 on the CPU (bf16 autocast, 2.2x faster on AMX; docs/results/precision.md): the losses
    within 1% and the weight update in the same direction as the float32 step from the same weights and batch,
    on the MNIST networks (with the default preset's IMSAT term) and on dSprites' small ones."""
    config = dataclasses.replace(BF16_CASES[case], precision="bf16")
    torch.manual_seed(0)
    model = build_model(config)
    float32_model, initial = copy.deepcopy(model), copy.deepcopy(model.state_dict())
    size = config.image_size
    real = torch.rand(16, config.channels, size, size) * 2 - 1
    latent = sample_latent(model.spec, 16, torch.Generator().manual_seed(1))
    augmented = imsat.warped_copy(real, config, torch.Generator().manual_seed(2)) if imsat.active(config) else None
    bf16 = train_step(model, make_optimizers(model, config), real, latent, config, augmented=augmented)
    float32_config = dataclasses.replace(config, precision="float32")
    float32 = train_step(
        float32_model, make_optimizers(float32_model, config), real, latent, float32_config, augmented=augmented
    )
    for key in ("loss_d", "loss_g", "nll", *(["loss_real_cluster"] if augmented is not None else [])):
        torch.testing.assert_close(bf16[key], float32[key], rtol=1e-2, atol=1e-3, msg=key)
    names = [name for name, tensor in initial.items() if tensor.is_floating_point()]
    ours = torch.cat([(model.state_dict()[n] - initial[n]).flatten() for n in names])
    theirs = torch.cat([(float32_model.state_dict()[n] - initial[n]).flatten() for n in names])
    assert ours.isfinite().all() and not torch.equal(ours, theirs)  # bf16 really ran: the updates differ
    assert F.cosine_similarity(ours, theirs, dim=0) >= 0.95


def test_g_steps_takes_that_many_generator_updates_and_one_of_everything_else():
    """--g-steps 2 (InfoGAN-CR's code): G and, with the trunk not trained by L_I, Q step twice per batch;
    D and InfoGAN-CR's head once."""

    def adam_steps(optimizer):
        return {int(state["step"]) for state in optimizer.state.values()}

    config = TrainConfig(noise=4, categorical=(), continuous=3, g_steps=2, cr_weight=1.0, info_trains_trunk=False)
    torch.manual_seed(0)
    model = build_model(config)
    optimizers = make_optimizers(model, config)
    real = torch.rand(8, 1, 28, 28) * 2 - 1
    losses = train_step(model, optimizers, real, sample_latent(model.spec, 8, torch.Generator().manual_seed(1)), config)
    assert adam_steps(optimizers["g"]) == {2} and adam_steps(optimizers["q"]) == {2}
    assert adam_steps(optimizers["d"]) == {1} and adam_steps(optimizers["cr"]) == {1}
    assert int(losses["skipped"]) == 0 and "loss_cr" in losses
