"""Random augmentations of image batches in [-1, 1] (geometry, grey levels, cutout), drawn from a given generator."""

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
    stretch: float = 0.0,
) -> torch.Tensor:
    """Rotate by U(-degrees, degrees), scale by U(1 - scale, 1 + scale), translate by U(-shift, shift)
    of the image size, slant by a shear of U(-shear, shear) degrees and stretch the height alone by
    U(1 - stretch, 1 + stretch), per image; edges repeat the border, the background of digits and sprites.

    Small enough to keep what an image shows (a 6 stays a 6), large enough to change its style.
    The parameters are drawn on the CPU generator, then the warp runs on the images' device; a shear
    or stretch of 0 draws nothing, so the generator's stream is that of a warp without the option.
    """
    n = len(images)
    angle, zoom, dx, dy = (torch.rand(4, n, generator=generator) * 2 - 1).to(images.device)
    slant = torch.zeros_like(angle)
    if shear:
        slant = torch.tan((torch.rand(n, generator=generator) * 2 - 1).to(images.device) * math.radians(shear))
    height = torch.ones_like(angle)
    if stretch:
        height = 1 + (torch.rand(n, generator=generator) * 2 - 1).to(images.device) * stretch
    angle, zoom = angle * math.radians(degrees), 1 + zoom * scale
    cos, sin = torch.cos(angle) / zoom, torch.sin(angle) / zoom  # the grid maps output to input: inverse zoom
    # rotation-and-zoom times the shear [[1, slant], [0, 1]] times the stretch [[1, 0], [0, 1 / height]]
    rows = [
        torch.stack([cos, (cos * slant - sin) / height, dx * 2 * shift], 1),
        torch.stack([sin, (sin * slant + cos) / height, dy * 2 * shift], 1),
    ]
    theta = torch.stack(rows, 1)
    grid = F.affine_grid(theta.to(images.dtype), list(images.shape), align_corners=False)  # (B, H, W, 2)
    return F.grid_sample(images, grid, padding_mode="border", align_corners=False)


def random_gamma(images: torch.Tensor, generator: torch.Generator, gamma: float) -> torch.Tensor:
    """Raise each image's intensity in [0, 1] to a power drawn log-uniformly from [1/gamma, gamma].

    Background (0) and the brightest pixel (1) stay put while the grey levels between move: a dark
    and a light garment of the same cut become alike, so a category cannot stand for how much ink
    an image has (Fashion-MNIST scales every image to a maximum of 1; a garment's mean grey spans 0.3-0.8).
    """
    power = torch.exp((torch.rand(len(images), generator=generator) * 2 - 1) * math.log(gamma))
    unit = ((images + 1) / 2).clamp(0, 1)
    return unit.pow(power.to(images.device, images.dtype).view(-1, 1, 1, 1)) * 2 - 1


def random_erase(images: torch.Tensor, generator: torch.Generator, size: int) -> torch.Tensor:
    """Blank a size x size square, centred anywhere in the image (clipped at the edges), to background.

    Cutout (DeVries and Taylor 2017): with one part of the silhouette gone (a heel, a sleeve), a
    category must rest on cues spread over the whole image, such as a sandal's straps.
    """
    n, _, height, width = images.shape
    top, left = (torch.randint(0, d, (n,), generator=generator) - size // 2 for d in (height, width))
    rows = torch.arange(height).view(1, -1) - top.view(-1, 1)  # (n, H): row index relative to the square's top
    columns = torch.arange(width).view(1, -1) - left.view(-1, 1)
    inside = ((rows >= 0) & (rows < size)).unsqueeze(2) & ((columns >= 0) & (columns < size)).unsqueeze(1)
    return images.masked_fill(inside.unsqueeze(1).to(images.device), -1.0)
