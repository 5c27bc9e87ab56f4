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


def test_shift_moves_content_and_keeps_shape():
    image = -torch.ones(1, 1, 8, 8)
    image[0, 0, 4, 4] = 1.0
    generator = torch.Generator().manual_seed(0)
    shifted = torch.cat([shift(image, generator) for _ in range(50)])
    assert shifted.shape == (50, 1, 8, 8)
    positions = {tuple(torch.nonzero(s[0] == 1.0)[0].tolist()) for s in shifted}
    assert len(positions) > 1 and all(2 <= y <= 6 and 2 <= x <= 6 for y, x in positions)
