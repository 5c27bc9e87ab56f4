"""Random geometric augmentations of image batches in [-1, 1], drawn from a given generator (reproducible)."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F


def shift(images: torch.Tensor, generator: torch.Generator, pixels: int = 2) -> torch.Tensor:
    """Translate each image by up to `pixels` in x and y, filling with the background (-1)."""
    height, width = images.shape[2:]
    padded = F.pad(images, (pixels,) * 4, value=-1.0)  # (B, C, H + 2p, W + 2p)
    dx, dy = torch.randint(0, 2 * pixels + 1, (2, len(images)), generator=generator).tolist()
    return torch.stack([image[:, y : y + height, x : x + width] for image, x, y in zip(padded, dx, dy, strict=True)])


def random_affine(
    images: torch.Tensor,
    generator: torch.Generator,
    degrees: float = 15.0,
    scale: float = 0.1,
    shift: float = 0.1,
    shear: float = 0.0,
) -> torch.Tensor:
    """Rotate by U(-degrees, degrees), scale by U(1 - scale, 1 + scale), translate by U(-shift, shift)
    of the image size and slant by a shear of U(-shear, shear) degrees, per image; edges repeat the
    border, the background of digits and sprites.

    Small enough to keep what an image shows (a 6 stays a 6), large enough to change its style.
    The parameters are drawn on the CPU generator, then the warp runs on the images' device; with
    shear 0 no shear is drawn, so the generator's stream is that of a warp without the option.
    """
    n = len(images)
    angle, zoom, dx, dy = (torch.rand(4, n, generator=generator) * 2 - 1).to(images.device)
    slant = torch.zeros_like(angle)
    if shear:
        slant = torch.tan((torch.rand(n, generator=generator) * 2 - 1).to(images.device) * math.radians(shear))
    angle, zoom = angle * math.radians(degrees), 1 + zoom * scale
    cos, sin = torch.cos(angle) / zoom, torch.sin(angle) / zoom  # the grid maps output to input: inverse zoom
    # rotation-and-zoom times the shear [[1, slant], [0, 1]]: x moves by slant * y
    rows = [
        torch.stack([cos, cos * slant - sin, dx * 2 * shift], 1),
        torch.stack([sin, sin * slant + cos, dy * 2 * shift], 1),
    ]
    theta = torch.stack(rows, 1)
    grid = F.affine_grid(theta.to(images.dtype), list(images.shape), align_corners=False)  # (B, H, W, 2)
    return F.grid_sample(images, grid, padding_mode="border", align_corners=False)
