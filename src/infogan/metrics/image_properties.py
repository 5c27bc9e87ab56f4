"""Properties of grey images measured from their pixels: slant, width, height, stroke thickness, ink.

The source of measurements that names a digit model's continuous codes (code_effects.py): the
reference's MNIST traversals are labelled "width", "rotation", ...; here such a label is measured.
Bright strokes on a dark ground (MNIST's and Fashion-MNIST's convention): a pixel's ink is its
brightness, w = (x + 1) / 2 for x in [-1, 1]. Coordinates: x to the right, y upwards, in pixels.

- ink: the sum of w, in pixels of full ink.
- slant: the angle of the principal axis of the ink (from its second-order central moments) away from
  vertical, in degrees, positive when the top leans right; a round blob has no axis, so its slant is noise.
- width, height: sqrt(12 var + 1) of the ink's x and y, in pixels; exact for a solid rectangle of
  whole pixels (a discrete uniform over n pixels has variance (n^2 - 1) / 12). The width is taken after
  undoing the slant as a shear (x' = x - (mu11 / mu02) y, as MNIST deskewing does), so that a code
  that slants a digit does not also read as widening it.
- thickness: the shorter side of the rectangle with the stroke's area A and perimeter P (pixels above
  half ink; P counts pixel edges between ink and ground): t = (P/2 - sqrt(P^2/4 - 4A)) / 2. Exact for a
  bar; for a curved stroke the inner and outer edges play the bar's long sides. Staircase edges make a
  diagonal stroke's perimeter longer, so compare thickness along one traversal, not across shapes.
"""

from __future__ import annotations

import numpy as np
import torch

PROPERTIES = ("slant", "width", "height", "thickness", "ink")
UNITS = {"slant": "degrees", "width": "pixels", "height": "pixels", "thickness": "pixels", "ink": "pixels"}


def measure(images: torch.Tensor | np.ndarray) -> dict[str, np.ndarray]:
    """Every property of grey images (N, 1, H, W) or (N, H, W) in [-1, 1]: {property: (N,) values}."""
    pixels = np.asarray(images.detach().float().cpu() if isinstance(images, torch.Tensor) else images, np.float64)
    ink = np.clip((pixels.reshape(-1, *pixels.shape[-2:]) + 1) / 2, 0, 1)  # (N, H, W)
    return {**moment_properties(ink), "thickness": stroke_thickness(ink > 0.5), "ink": ink.sum((1, 2))}


def moment_properties(ink: np.ndarray) -> dict[str, np.ndarray]:
    """Slant, width and height of ink weights (N, H, W) in [0, 1] from their first and second moments."""
    height, width = ink.shape[1:]
    y = -np.arange(height, dtype=np.float64)[:, None]  # rows go down, y goes up
    x = np.arange(width, dtype=np.float64)[None, :]
    total = np.maximum(ink.sum((1, 2)), 1e-12)  # an empty image: all moments 0

    def mean(values: np.ndarray) -> np.ndarray:
        return (ink * values).sum((1, 2)) / total

    mx, my = mean(x), mean(y)
    dx, dy = x[None] - mx[:, None, None], y[None] - my[:, None, None]  # (N, H, W)
    mu20, mu02, mu11 = mean(dx * dx), mean(dy * dy), mean(dx * dy)
    axis = 0.5 * np.degrees(np.arctan2(2 * mu11, mu20 - mu02))  # the principal axis from the x-axis, (-90, 90]
    slant = (180 - axis) % 180 - 90  # from vertical, clockwise (top to the right) positive
    shear = np.divide(mu11, mu02, out=np.zeros_like(mu11), where=mu02 > 0)  # a horizontal line has no slant to undo
    upright_mu20 = np.maximum(mu20 - shear * mu11, 0)  # var(x - shear * y)
    return {"slant": slant, "width": np.sqrt(12 * upright_mu20 + 1), "height": np.sqrt(12 * mu02 + 1)}


def stroke_thickness(strokes: np.ndarray) -> np.ndarray:
    """The thickness of binary strokes (N, H, W): the short side of the bar with their area and perimeter."""
    padded = np.pad(strokes, ((0, 0), (1, 1), (1, 1)))  # the image's border counts as ground
    area = strokes.sum((1, 2)).astype(np.float64)
    perimeter = (padded[:, 1:] != padded[:, :-1]).sum((1, 2)) + (padded[:, :, 1:] != padded[:, :, :-1]).sum((1, 2))
    half = perimeter / 2.0
    # a blob more compact than a square (impossible on a pixel grid, but kept safe) has no real root: t = P/4
    return (half - np.sqrt(np.maximum(half * half - 4 * area, 0.0))) / 2
