import math

import torch

from infogan.augment import random_affine, shift


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


def test_no_shear_draws_nothing_more_from_the_generator():
    generator = torch.Generator().manual_seed(5)
    random_affine(square().repeat(3, 1, 1, 1), generator, shear=0)
    reference = torch.Generator().manual_seed(5)
    torch.rand(4, 3, generator=reference)
    assert torch.equal(generator.get_state(), reference.get_state())


def test_shift_moves_content_and_keeps_shape():
    image = -torch.ones(1, 1, 8, 8)
    image[0, 0, 4, 4] = 1.0
    generator = torch.Generator().manual_seed(0)
    shifted = torch.cat([shift(image, generator) for _ in range(50)])
    assert shifted.shape == (50, 1, 8, 8)
    positions = {tuple(torch.nonzero(s[0] == 1.0)[0].tolist()) for s in shifted}
    assert len(positions) > 1 and all(2 <= y <= 6 and 2 <= x <= 6 for y, x in positions)
