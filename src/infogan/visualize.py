"""Image grids written as PNG with Pillow (no torchvision)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from PIL import Image, ImageDraw, ImageFont

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


def enlarged(grid: Image.Image, upscale: int) -> Image.Image:
    """Each pixel as an upscale x upscale block (nearest neighbour): 32 px tiles large enough to see."""
    return (
        grid if upscale == 1 else grid.resize((grid.width * upscale, grid.height * upscale), Image.Resampling.NEAREST)
    )


def with_row_labels(grid: Image.Image, labels: list[str], pad: int = PAD) -> Image.Image:
    """The grid with a white strip on its left naming each row (its tiles are grid.height / rows high)."""
    font = ImageFont.load_default()
    measure = ImageDraw.Draw(grid)
    width = max(int(measure.textlength(label, font=font)) for label in labels) + 3 * pad
    out = Image.new(grid.mode, (grid.width + width, grid.height), "white")
    out.paste(grid, (width, 0))
    draw, row_height = ImageDraw.Draw(out), (grid.height - pad) / len(labels)
    for row, label in enumerate(labels):
        _, top, _, bottom = draw.textbbox((0, 0), label, font=font)  # anchors need FreeType: centre by hand
        middle = pad + row * row_height + (row_height - pad) / 2
        draw.text((pad, middle - (top + bottom) / 2), label, fill="black", font=font)
    return out


def save_grid(
    images: torch.Tensor, columns: int, path: str | Path, row_labels: list[str] | None = None, upscale: int = 1
) -> Path:
    """Write an image grid as PNG atomically, creating the folder; returns the path. `row_labels` name
    the rows on a strip at the left; `upscale` enlarges every tile that many times."""
    path = Path(path)
    grid = enlarged(image_grid(images, columns), upscale)
    if row_labels is not None:
        grid = with_row_labels(grid, row_labels, PAD * upscale)
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
