import pytest
import torch

from infogan.latent import LatentSpec, sample_latent
from infogan.networks import InfoGAN


@pytest.mark.parametrize(("size", "channels"), [(28, 1), (32, 1), (64, 3)])
def test_shapes(size, channels):
    spec = LatentSpec(noise=7, categorical=(10, 3), continuous=2)
    model = InfoGAN(spec, size, channels, learn_std=True)
    latent = sample_latent(spec, 4)
    images = model.generator(latent.generator_input(spec))
    assert images.shape == (4, channels, size, size)
    assert images.abs().max() <= 1
    d_logits, (logits, means, log_stds) = model.discriminate(images)
    assert d_logits.shape == (4,)
    assert [x.shape for x in logits] == [(4, 10), (4, 3)]
    assert means.shape == (4, 2) and log_stds.shape == (4, 2)


def test_paper_layers_28():
    model = InfoGAN(LatentSpec(62, (10,), 2), 28, 1)
    assert model.generator.fc[0].in_features == 74 and model.generator.fc[0].out_features == 1024
    assert model.generator.fc[3].out_features == 7 * 7 * 128
    convs = [m for m in model.trunk.conv if isinstance(m, torch.nn.Conv2d)]
    assert [c.out_channels for c in convs] == [64, 128]
    assert model.trunk.fc[0].out_features == 1024
    assert model.q_head.net[0].out_features == 128 and model.q_head.net[-1].out_features == 12


def test_weights_are_normal_002():
    model = InfoGAN(LatentSpec(62, (10,), 2), 28, 1)
    weight = model.generator.fc[3].weight  # 1024 x 6272 draws
    assert abs(weight.mean().item()) < 1e-3
    assert weight.std().item() == pytest.approx(0.02, rel=0.02)


def test_spectral_norm_option():
    model = InfoGAN(LatentSpec(5, (), 3), 64, 1, spectral_norm=True)
    assert hasattr(model.trunk.conv[0], "weight_orig")
    assert model.trunk(torch.zeros(2, 1, 64, 64)).shape == (2, 1024)


def test_every_network_name_has_a_layout():
    from infogan.config import NETWORKS
    from infogan.networks import LAYOUTS

    assert set(LAYOUTS) == set(NETWORKS)


def test_infogan_crs_discriminator_has_no_batch_norm_and_spectral_norm_in_every_layer():
    model = InfoGAN(LatentSpec(5, (), 5), 64, 1, spectral_norm=True, network="small", d_batch_norm=False)
    discriminator = [model.trunk, model.d_head, model.q_head]
    assert not any(isinstance(m, torch.nn.modules.batchnorm._BatchNorm) for d in discriminator for m in d.modules())
    layers = [m for d in discriminator for m in d.modules() if isinstance(m, (torch.nn.Conv2d, torch.nn.Linear))]
    assert len(layers) == 8 and all(hasattr(layer, "weight_orig") and layer.bias is not None for layer in layers)
    logits, (_, means, _) = model.discriminate(torch.zeros(3, 1, 64, 64))
    assert logits.shape == (3,) and means.shape == (3, 5)


def test_the_default_discriminator_keeps_its_batch_norm_layout():
    """Checkpoints written before --no-d-batch-norm existed load into the default layout."""
    model = InfoGAN(LatentSpec(5, (), 3), 64, 1, spectral_norm=True)
    keys = set(model.state_dict())
    assert "trunk.conv.3.running_mean" in keys and "q_head.net.1.running_mean" in keys
    assert "d_head.weight" in keys and "trunk.conv.0.weight_orig" in keys


def test_the_papers_celeba_layers():
    """Appendix C's CelebA table: G FC 2x2x448 BN -> deconv 256 BN -> 128 -> 64 -> 3 tanh; D conv 64 -> 128 BN
    -> 256 BN -> FC; Q FC 128 BN -> the codes; 228 inputs (128 noise, ten 10-way codes)."""
    from torch import nn

    model = InfoGAN(LatentSpec(128, (10,) * 10, 0), 32, 3, network="paper-celeba")
    fc = [m for m in model.generator.fc if isinstance(m, nn.Linear)]
    assert [(m.in_features, m.out_features) for m in fc] == [(228, 2 * 2 * 448)]
    deconvs = [m for m in model.generator.deconv if isinstance(m, nn.ConvTranspose2d)]
    assert [m.out_channels for m in deconvs] == [256, 128, 64, 3]
    assert sum(isinstance(m, nn.BatchNorm2d) for m in model.generator.deconv) == 1
    convs = [m for m in model.trunk.conv if isinstance(m, nn.Conv2d)]
    assert [m.out_channels for m in convs] == [64, 128, 256]
    assert sum(isinstance(m, nn.BatchNorm2d) for m in model.trunk.conv) == 2
    assert len(model.trunk.fc) == 0 and model.d_head.in_features == 4 * 4 * 256
    assert model.q_head.net[0].in_features == 4096 and model.q_head.net[-1].out_features == 100
    images = model.generator(torch.rand(5, 228))
    assert images.shape == (5, 3, 32, 32)
    logits, (codes, _, _) = model.discriminate(images)
    assert logits.shape == (5,) and [c.shape for c in codes] == [(5, 10)] * 10
