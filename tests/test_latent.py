import math

import torch

from infogan.latent import LatentSpec, category_rows_latent, sample_latent, traversal_latent

SPEC = LatentSpec(noise=5, categorical=(10, 3), continuous=2)


def test_input_dim_and_names():
    assert SPEC.input_dim == 5 + 13 + 2
    assert SPEC.code_names() == ["cat0", "cat1", "cont0", "cont1"]


def test_sampling_statistics():
    latent = sample_latent(SPEC, 20000, torch.Generator().manual_seed(0))
    for uniform in (latent.noise, latent.continuous):
        assert uniform.min() >= -1 and uniform.max() <= 1
        assert abs(uniform.mean()) < 0.02
        assert abs(uniform.var() - 1 / 3) < 0.01  # Var U(-1, 1) = 1/3
    for i, size in enumerate(SPEC.categorical):
        counts = torch.bincount(latent.categorical[:, i], minlength=size).float()
        assert len(counts) == size
        # each count ~ Binomial(n, 1/K): within 5 standard deviations
        n, p = 20000, 1 / size
        assert ((counts - n * p).abs() < 5 * math.sqrt(n * p * (1 - p))).all()


def test_noise_scale_narrows_only_the_noise():
    spec = LatentSpec(noise=5, categorical=(10,), continuous=2, noise_scale=0.1)
    narrow = sample_latent(spec, 1000, torch.Generator().manual_seed(0))
    wide = sample_latent(LatentSpec(5, (10,), 2), 1000, torch.Generator().manual_seed(0))
    assert torch.allclose(narrow.noise, wide.noise * 0.1)  # same draws, scaled
    assert torch.equal(narrow.categorical, wide.categorical) and torch.equal(narrow.continuous, wide.continuous)


def test_sampling_is_reproducible_from_a_seed():
    a = sample_latent(SPEC, 4, torch.Generator().manual_seed(3))
    b = sample_latent(SPEC, 4, torch.Generator().manual_seed(3))
    assert torch.equal(a.generator_input(SPEC), b.generator_input(SPEC))


def test_generator_input_layout():
    latent = sample_latent(SPEC, 6, torch.Generator().manual_seed(1))
    x = latent.generator_input(SPEC)
    assert x.shape == (6, SPEC.input_dim)
    assert torch.equal(x[:, :5], latent.noise)
    assert torch.equal(x[:, 5:15].argmax(1), latent.categorical[:, 0])
    assert torch.equal(x[:, 15:18].argmax(1), latent.categorical[:, 1])
    assert torch.equal(x[:, 5:18].sum(1), torch.full((6,), 2.0))  # two one-hots
    assert torch.equal(x[:, 18:], latent.continuous)


def test_codes_can_be_absent():
    spec = LatentSpec(noise=3, categorical=(), continuous=4)
    latent = sample_latent(spec, 2)
    assert latent.generator_input(spec).shape == (2, 7)


def test_category_rows_fix_the_first_code_per_row_and_share_columns():
    latent = category_rows_latent(SPEC, columns=4, generator=torch.Generator().manual_seed(0))
    assert len(latent) == (10 + 9) * 4  # then 3 bands of the 3-way code
    assert torch.equal(latent.categorical[:40, 0], torch.arange(10).repeat_interleave(4))
    noise = latent.noise[:40].view(10, 4, -1)
    assert torch.equal(noise[0], noise[9])  # a column keeps its noise across rows
    assert not torch.equal(noise[0, 0], noise[0, 1])


def test_traversal_moves_one_code_from_minus_one_to_one():
    latent = traversal_latent(SPEC, code=1, steps=5, generator=torch.Generator().manual_seed(0))
    grid = latent.continuous.view(10, 5, 2)
    assert torch.allclose(grid[:, :, 1], torch.linspace(-1, 1, 5).expand(10, 5))
    assert torch.equal(grid[:, :, 0], torch.zeros(10, 5))
    assert torch.equal(latent.categorical[:, 0].view(10, 5), torch.arange(10)[:, None].expand(10, 5))
    assert torch.equal(latent.noise, latent.noise[:1].expand_as(latent.noise))
