"""Image grids written as PNG with Pillow (no torchvision)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from PIL import Image

from infogan.errors import InfoGANError
from infogan.files import atomic_write

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
    """Write an image grid as PNG atomically, creating the folder; returns the path."""
    path = Path(path)
    grid = image_grid(images, columns)
    with atomic_write(path) as handle:
        grid.save(handle, format=image_format(path))
    return path


def image_format(path: Path) -> str:
    """Pillow's format for a file name (PNG without a suffix), or an InfoGANError naming the suffixes it writes."""
    formats = Image.registered_extensions()
    if not path.suffix:
        return "PNG"
    if path.suffix.lower() not in formats:
        raise InfoGANError(f"cannot write images as {path.suffix!r} ({path}): name the file .png or .jpg")
    return formats[path.suffix.lower()]
