"""Image folders: CelebA's layout and any folder of JPEG/PNG files, decoded once into uint8 arrays.

Each image is centre-cropped to a square (CelebA: the standard 108x108 face crop), resized with
Pillow and converted to grey or RGB. Images in two or more class subfolders get those folders as
labels, as torchvision's ImageFolder does. Decoded arrays are cached in $INFOGAN_CACHE/folders
(default ~/.cache/infogan/folders).
"""

from __future__ import annotations

import hashlib
import logging
import os
import struct
import warnings
from concurrent.futures import ThreadPoolExecutor
from itertools import compress
from pathlib import Path
from typing import BinaryIO

import numpy as np
from PIL import Image

from infogan.cache import cache_dir
from infogan.errors import InfoGANError

log = logging.getLogger(__name__)

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".webp", ".gif", ".tif", ".tiff"}
CELEBA_CROP = 108  # face crop of the DCGAN and InfoGAN CelebA setups, from the 178x218 aligned images
CELEBA_SPLITS = {"train": "0", "test": "2"}  # list_eval_partition.txt: 0 train, 1 valid, 2 test
# Pillow's own bomb threshold (about 89 million pixels), past which it only warns up to twice that:
# here a larger image is refused before it is decoded, as no 64x64 training image needs one.
MAX_IMAGE_PIXELS = Image.MAX_IMAGE_PIXELS
# What Pillow raises on damaged or hostile files besides OSError (UnidentifiedImageError, truncation).
DECODE_ERRORS = (OSError, ValueError, SyntaxError, EOFError, struct.error)


# Every image Pillow warns about is refused by open_image with a message that says what to do: its
# warning (two more lines on stderr) would only repeat that.
warnings.filterwarnings("ignore", category=Image.DecompressionBombWarning)


class ImageTooLarge(InfoGANError):
    """An image whose header promises more pixels than allowed: refused before decoding (decompression bombs)."""


def list_images(root: Path) -> list[Path]:
    """Every file with an image suffix below `root`, sorted for a stable order."""
    if not root.is_dir():
        raise InfoGANError(f"image folder {root} does not exist: pass --data with a folder of images")
    files = sorted(p for p in root.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file())
    if not files:
        raise InfoGANError(f"image folder {root} holds no JPEG/PNG images: pass --data with a folder of images")
    return files


def class_names(root: Path, files: list[Path]) -> list[str] | None:
    """The first-level subfolders holding every file, when there are at least two, sorted: label i is
    the i-th name (as torchvision's ImageFolder numbers them); else None."""
    classes = sorted({p.relative_to(root).parts[0] for p in files if len(p.relative_to(root).parts) > 1})
    if len(classes) < 2 or any(len(p.relative_to(root).parts) == 1 for p in files):
        return None
    return classes


def folder_labels(root: Path, files: list[Path]) -> np.ndarray | None:
    """Class labels from the first-level subfolders when there are at least two (see class_names), else None."""
    classes = class_names(root, files)
    if classes is None:
        return None
    index = {name: i for i, name in enumerate(classes)}
    return np.array([index[p.relative_to(root).parts[0]] for p in files], dtype=np.int64)


def open_image(
    source: Path | BinaryIO,
    max_pixels: int = MAX_IMAGE_PIXELS,
    max_side: int | None = None,
    formats: tuple[str, ...] | None = None,
) -> Image.Image:
    """Open an image, reading its header only, and refuse it before it is decoded when it has more than
    `max_pixels` pixels or a side longer than `max_side` (Pillow's cost grows with the rows as well as
    the pixels: a 1 x 16M-pixel PNG takes longer and far more memory to decode than a 4096 x 4096 one)."""
    limit = f"{max_pixels:,} pixels" + (f" and {max_side} on a side" if max_side else "")
    try:
        image = Image.open(source, formats=formats)
    except Image.DecompressionBombError:  # Pillow's own check, at twice Image.MAX_IMAGE_PIXELS
        raise ImageTooLarge(f"the image has far more than the {limit} allowed: shrink it") from None
    width, height = image.size
    if width * height > max_pixels or (max_side is not None and max(width, height) > max_side):
        image.close()
        raise ImageTooLarge(f"the image is {width}x{height} pixels, more than the {limit} allowed: shrink it")
    return image


def to_array(image: Image.Image, size: int, channels: int, crop: int | None) -> np.ndarray:
    """Decode an opened image to (H, W, C) uint8: centre crop (`crop` px, or the largest square), resize
    to `size`, grey or RGB."""
    image = image.convert("RGB" if channels == 3 else "L")
    width, height = image.size
    side = min(crop or min(width, height), width, height)
    left, top = (width - side) // 2, (height - side) // 2
    image = image.crop((left, top, left + side, top + side)).resize((size, size), Image.Resampling.LANCZOS)
    return np.asarray(image, dtype=np.uint8).reshape(size, size, channels)


def load_image(path: Path | BinaryIO, size: int, channels: int, crop: int | None) -> np.ndarray:
    """(H, W, C) uint8 from an image file, as the data loaders feed the model (see to_array)."""
    with open_image(path) as image:
        return to_array(image, size, channels, crop)


def decode_all(
    files: list[Path], size: int, channels: int, crop: int | None, skip_bad: bool
) -> tuple[np.ndarray, np.ndarray]:
    """Decode `files` on a few threads (Pillow releases the GIL): (images, mask of files kept).

    A bad file (damaged, not an image, or a decompression bomb) fails the load, or is skipped with a
    warning when `skip_bad`.
    """
    reasons: dict[Path, str] = {}

    def decode(path: Path) -> np.ndarray | None:
        try:
            return load_image(path, size, channels, crop)
        except (*DECODE_ERRORS, ImageTooLarge) as error:
            if not skip_bad:
                raise InfoGANError(f"cannot read image {path} ({error}): remove it or pass --skip-bad-images") from None
            reasons[path] = str(error)
            return None

    with ThreadPoolExecutor(max_workers=4) as pool:
        decoded = list(pool.map(decode, files))
    if reasons:
        shown = "; ".join(f"{path.name} ({reason})" for path, reason in sorted(reasons.items())[:3])
        more = f"; and {len(reasons) - 3} more" if len(reasons) > 3 else ""
        log.warning("skipped %d unreadable image(s) of %d: %s%s", len(reasons), len(files), shown, more)
    good = [image for image in decoded if image is not None]
    if not good:
        raise InfoGANError("no image in the folder could be read")
    return np.stack(good), np.array([image is not None for image in decoded])


def cache_key(files: list[Path], size: int, channels: int, crop: int | None) -> str:
    """Changes when the file list, any file's size or time, or the preprocessing changes.

    Names are hashed as the bytes the file system holds (os.fsencode): a name that is not UTF-8
    is a valid file name, and its image is read like any other."""
    digest = hashlib.sha1(f"{size}/{channels}/{crop}".encode())
    for path in files:
        stat = path.stat()
        digest.update(os.fsencode(path) + f"|{stat.st_size}|{stat.st_mtime_ns}\n".encode())
    return digest.hexdigest()[:16]


def load_folder(
    root: str | Path,
    size: int,
    channels: int,
    crop: int | None = None,
    skip_bad: bool = False,
    files: list[Path] | None = None,
) -> tuple[np.ndarray, np.ndarray | None, list[Path]]:
    """Images (N, H, W, C) uint8, labels (N,) or None, and the N files they came from, from a folder (or
    the given files of it)."""
    root = Path(root)
    files = files if files is not None else list_images(root)
    labels = folder_labels(root, files)
    cache = cache_dir("folders") / f"{cache_key(files, size, channels, crop)}.npz"
    if cache.is_file():
        with np.load(cache) as stored:
            kept = stored["kept"]
            return stored["images"], (labels[kept] if labels is not None else None), list(compress(files, kept))
    log.info("decoding %d images from %s (cached for next time)", len(files), root)
    images, kept = decode_all(files, size, channels, crop, skip_bad)
    cache.parent.mkdir(parents=True, exist_ok=True)
    partial = cache.with_suffix(".part.npz")
    np.savez(partial, images=images, kept=kept)
    partial.replace(cache)
    return images, (labels[kept] if labels is not None else None), list(compress(files, kept))


def celeba_files(root: Path, split: str) -> list[Path]:
    """CelebA's aligned images (root/img_align_celeba/*.jpg, or root itself), split by
    list_eval_partition.txt when it is present (otherwise every image is in each split)."""
    image_dir = root / "img_align_celeba" if (root / "img_align_celeba").is_dir() else root
    files = list_images(image_dir)
    partition = root / "list_eval_partition.txt"
    if not partition.is_file():
        log.warning("%s not found: using all %d images for split %r", partition, len(files), split)
        return files
    try:
        lines = partition.read_bytes().decode("utf-8").splitlines()
    except UnicodeDecodeError as error:
        raise InfoGANError(f"{partition} is not a text file ({error}): restore CelebA's file") from None
    rows = [(number, line.split()) for number, line in enumerate(lines, 1) if line.strip()]
    malformed = next((number for number, row in rows if len(row) != 2), None)
    if malformed is not None:
        raise InfoGANError(f"{partition} line {malformed} is not `FILE PARTITION`: restore CelebA's file")
    wanted = {row[0] for _, row in rows if row[1] == CELEBA_SPLITS[split]}
    return [p for p in files if p.name in wanted]
