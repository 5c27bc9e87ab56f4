"""Image grids written as PNG with Pillow (no torchvision)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from PIL import Image

PAD = 2  # pixels between tiles


def image_grid(images: torch.Tensor, columns: int, pad: int = PAD) -> Image.Image:
    """(N, C, H, W) images in [-1, 1] -> one PIL image, row-major, `columns` tiles per row."""
    images = ((images.detach().float().cpu().clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8)
    count, channels, height, width = images.shape
    rows = -(-count // columns)
    grid = np.full((rows * (height + pad) + pad, columns * (width + pad) + pad, channels), 255, np.uint8)
    for index, image in enumerate(images.permute(0, 2, 3, 1).numpy()):  # (H, W, C) each
        top, left = pad + (index // columns) * (height + pad), pad + (index % columns) * (width + pad)
        grid[top : top + height, left : left + width] = image
    return Image.fromarray(grid[:, :, 0] if channels == 1 else grid)


def save_grid(images: torch.Tensor, columns: int, path: str | Path) -> Path:
    """Write an image grid as PNG, creating the folder; returns the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    image_grid(images, columns).save(path)
    return path
