import math

import torch

from infogan.augment import random_affine, random_erase, random_gamma, shift
from infogan.config import TrainConfig
from infogan.imsat import warped_copy


def square(size: int = 28) -> torch.Tensor:
    image = torch.full((1, 1, size, size), -1.0)
    image[:, :, 10:18, 12:16] = 1.0
    return image


def test_random_affine_without_range_is_the_identity():
    image = square()
    out = random_affine(image, torch.Generator().manual_seed(0), degrees=0, scale=0, shift=0)
    assert torch.allclose(out, image, atol=1e-6)


def test_random_affine_keeps_shape_range_and_background_and_is_reproducible():
    images = square().repeat(8, 1, 1, 1)
    a = random_affine(images, torch.Generator().manual_seed(3))
    b = random_affine(images, torch.Generator().manual_seed(3))
    assert a.shape == images.shape and torch.equal(a, b)
    assert a.min() >= -1 and a.max() <= 1
    assert (a[:, :, 0, :] == -1).all()  # the border stays background: the digit moved, nothing wrapped in
    assert len({tuple(x.flatten().tolist()) for x in a}) == 8  # each image got its own warp
    ink = (a > 0).flatten(1).sum(1).float()  # the ink area changes with the zoom, within (1 +- 0.1)^2 and blur
    assert ((ink > 0.6 * 32) & (ink < 1.5 * 32)).all()


def test_shear_slants_a_vertical_bar_about_the_centre_row():
    image = torch.full((1, 1, 28, 28), -1.0)
    image[:, :, 4:24, 13:15] = 1.0  # a vertical bar, 2 px wide
    out = random_affine(image.repeat(40, 1, 1, 1), torch.Generator().manual_seed(0), 0, 0, 0, shear=20)

    def column(row: torch.Tensor) -> torch.Tensor:  # the bar's centre of mass along a row, per image
        weight = (row + 1).clamp(min=0)
        return (weight * torch.arange(28.0)).sum(-1) / weight.sum(-1)

    top, middle, bottom = (column(out[:, 0, y]) for y in (6, 14, 21))
    assert torch.allclose(middle, torch.full_like(middle, 13.5), atol=0.3)  # the centre row stays put
    offset = top - bottom  # opposite offsets above and below the centre: a slant, not a shift
    limit = 15 * math.tan(math.radians(20))  # rows 15 px apart, at most 20 degrees
    assert offset.abs().max() <= limit + 0.5 and offset.abs().max() > 0.5 * limit
    assert (offset > 0).any() and (offset < 0).any()  # both directions


def test_stretch_changes_the_height_alone_about_the_centre_row():
    image = torch.full((1, 1, 28, 28), -1.0)
    image[:, :, 8:20, 10:18] = 1.0  # a block 12 px tall, 8 px wide, centred
    out = random_affine(image.repeat(40, 1, 1, 1), torch.Generator().manual_seed(0), 0, 0, 0, stretch=0.25)
    ink = (out[:, 0] + 1) / 2
    height, width = ink.sum(1).max(1).values, ink.sum(2).max(1).values  # the tallest column, the widest row
    assert torch.allclose(width, torch.full_like(width, 8.0), atol=0.05)  # width untouched
    assert height.min() >= 12 * 0.75 - 0.05 and height.max() <= 12 * 1.25 + 0.05
    assert height.min() < 12 * 0.85 and height.max() > 12 * 1.15  # both shorter and taller
    rows = torch.arange(28.0).view(1, 28)
    centre = (ink.sum(2) * rows).sum(1) / ink.sum((1, 2))
    assert torch.allclose(centre, torch.full_like(centre, 13.5), atol=0.05)  # about the centre row


def test_no_shear_or_stretch_draws_nothing_more_from_the_generator():
    generator = torch.Generator().manual_seed(5)
    random_affine(square().repeat(3, 1, 1, 1), generator, shear=0, stretch=0)
    reference = torch.Generator().manual_seed(5)
    torch.rand(4, 3, generator=reference)
    assert torch.equal(generator.get_state(), reference.get_state())


def test_gamma_moves_grey_levels_and_keeps_background_and_white():
    image = torch.tensor([-1.0, -0.5, 0.0, 0.5, 1.0]).view(1, 1, 1, 5)  # intensities 0, 1/4, 1/2, 3/4, 1
    out = random_gamma(image.repeat(200, 1, 1, 1), torch.Generator().manual_seed(0), gamma=2.0)
    unit = (out[:, 0, 0] + 1) / 2
    assert torch.allclose(unit[:, 0], torch.zeros(200)) and torch.allclose(unit[:, 4], torch.ones(200))
    power = torch.log(unit[:, 2]) / math.log(0.5)  # the power each image got, read off its mid grey
    assert torch.allclose(unit[:, 1], 0.25**power, atol=1e-5)  # one power per image, every pixel
    assert power.min() >= 0.5 - 1e-4 and power.max() <= 2 + 1e-4  # within [1/2, 2]
    assert power.min() < 0.6 and power.max() > 1.7 and (power.log().mean().abs() < 0.15)  # log-uniform spread


def test_erase_blanks_one_square_per_image_clipped_at_the_edges():
    images = torch.ones(300, 1, 28, 28)
    out = random_erase(images, torch.Generator().manual_seed(0), size=10)
    blank = out[:, 0] == -1
    assert ((out == 1) | (out == -1)).all()  # blanked to background, nothing else touched
    rows, columns = blank.any(2), blank.any(1)  # the rows and columns each blank square spans
    assert (blank == (rows.unsqueeze(2) & columns.unsqueeze(1))).all()  # one axis-aligned rectangle
    for span in (rows.sum(1), columns.sum(1)):
        assert span.max() == 10 and 5 <= span.min() < 10  # whole inside, clipped by an edge
    assert blank[:, 0].any() and blank[:, -1].any() and blank[:, :, 0].any() and blank[:, :, -1].any()
    assert len({tuple(r.nonzero().flatten().tolist()) for r in rows}) > 10  # positions vary per image


def test_shift_moves_content_and_keeps_shape():
    image = -torch.ones(1, 1, 8, 8)
    image[0, 0, 4, 4] = 1.0
    generator = torch.Generator().manual_seed(0)
    shifted = torch.cat([shift(image, generator) for _ in range(50)])
    assert shifted.shape == (50, 1, 8, 8)
    positions = {tuple(torch.nonzero(s[0] == 1.0)[0].tolist()) for s in shifted}
    assert len(positions) > 1 and all(2 <= y <= 6 and 2 <= x <= 6 for y, x in positions)


def test_warped_copy_draws_only_for_the_warps_that_are_on():
    images = square().repeat(4, 1, 1, 1)
    plain, reference = torch.Generator().manual_seed(1), torch.Generator().manual_seed(1)
    assert torch.equal(warped_copy(images, TrainConfig(), plain), random_affine(images, reference))
    assert torch.equal(plain.get_state(), reference.get_state())  # all extra warps off: the old stream

    config = TrainConfig(real_cluster_stretch=0.2, real_cluster_gamma=2.0, real_cluster_erase=6)
    out = warped_copy(images, config, torch.Generator().manual_seed(1))
    assert out.shape == images.shape and out.min() >= -1 and out.max() <= 1
    assert not torch.equal(out, random_affine(images, torch.Generator().manual_seed(1)))
