"""--q-shift / --q-noise: what Q reads of G's images, and that training with it replays exactly."""

import copy

import pytest
import torch

from infogan import q_view
from infogan.augment import shift_by
from infogan.config import TrainConfig
from infogan.errors import InfoGANError
from infogan.latent import sample_latent
from infogan.networks import build_model
from infogan.train import make_optimizers, train_step


def test_shift_by_moves_each_image_by_its_own_offset_and_fills_with_background():
    images = torch.full((2, 1, 4, 4), 0.5)
    images[:, :, 0, 0] = 1.0  # a marker in the top-left corner
    # image 0: offset (pixels, pixels) = no move; image 1: x offset 0 = one pixel right, y offset 2 = one pixel up
    out = shift_by(images, torch.tensor([[1, 0], [1, 2]]), pixels=1)
    assert torch.equal(out[0], images[0])
    assert out[1, 0, 0, 1] == 0.5 and out[1, 0, 0, 0] == -1.0  # the left column is new background
    assert torch.equal(out[1, 0, 3], torch.full((4,), -1.0))  # the bottom row came from below the image
    assert out[1, 0, 0, 1] == images[1, 0, 1, 0]


def test_view_adds_the_drawn_noise_after_the_shift_and_passes_gradients():
    config = TrainConfig(batch_size=3, q_shift=2, q_noise=0.5)
    view = q_view.draw(config, torch.Generator().manual_seed(0), torch.device("cpu"))
    again = q_view.draw(config, torch.Generator().manual_seed(0), torch.device("cpu"))
    assert torch.equal(view.offsets, again.offsets) and torch.equal(view.noise, again.noise)
    assert view.offsets.shape == (2, 3) and int(view.offsets.min()) >= 0 and int(view.offsets.max()) <= 4
    assert view.noise.std().item() == pytest.approx(0.5, rel=0.1)
    images = torch.zeros(3, 1, 28, 28, requires_grad=True)
    out = view(images)
    assert torch.allclose(out - view.noise, shift_by(images, view.offsets, 2), atol=1e-6)
    out.sum().backward()
    assert images.grad.abs().sum() > 0


def test_noise_alone_draws_no_shift():
    view = q_view.draw(TrainConfig(batch_size=2, q_noise=0.1), torch.Generator().manual_seed(0), torch.device("cpu"))
    images = torch.rand(2, 1, 28, 28)
    assert torch.equal(view(images), images + view.noise)
    assert not q_view.active(TrainConfig()) and q_view.active(TrainConfig(q_shift=1))


def one_step(config: TrainConfig, view: q_view.QView | None):
    torch.manual_seed(0)
    model = build_model(config)
    real = torch.rand(8, 1, 28, 28) * 2 - 1
    latent = sample_latent(model.spec, 8, torch.Generator().manual_seed(1))
    before = copy.deepcopy(model)
    losses = train_step(model, make_optimizers(model, config), real, latent, config, view=view)
    return before, model, losses


def test_q_reads_the_view_and_d_reads_the_images():
    """The view changes what L_I sees (so G's update), never D's real/fake loss."""
    config = TrainConfig(noise=4, batch_size=8, q_shift=3, q_noise=0.3)
    view = q_view.draw(config, torch.Generator().manual_seed(5), torch.device("cpu"))
    _, plain, plain_losses = one_step(config, None)
    _, viewed, viewed_losses = one_step(config, view)
    assert torch.equal(plain_losses["loss_d"], viewed_losses["loss_d"])
    assert not torch.equal(plain_losses["nll"], viewed_losses["nll"])
    pairs = zip(plain.generator.parameters(), viewed.generator.parameters(), strict=True)
    assert any(not torch.equal(p, q) for p, q in pairs)


@pytest.mark.parametrize(("flag", "value"), [("q_shift", 8), ("q_shift", -1), ("q_noise", -0.1), ("q_noise", 3.0)])
def test_impossible_views_are_refused(flag, value):
    with pytest.raises(InfoGANError, match=flag.replace("_", "-")):
        TrainConfig(**{flag: value}).validate()
