"""Image folders: CelebA's layout and any folder of JPEG/PNG files, decoded once into uint8 arrays.

Each image is centre-cropped to a square (CelebA: the standard 108x108 face crop), resized with
Pillow and converted to grey or RGB. Images in two or more class subfolders get those folders as
labels, as torchvision's ImageFolder does. Decoded arrays are cached in $INFOGAN_CACHE/folders
(default ~/.cache/infogan/folders).
"""

from __future__ import annotations

import hashlib
import logging
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import BinaryIO

import numpy as np
from PIL import Image, UnidentifiedImageError

from infogan.cache import cache_dir
from infogan.errors import InfoGANError

log = logging.getLogger(__name__)

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".webp", ".gif", ".tif", ".tiff"}
CELEBA_CROP = 108  # face crop of the DCGAN and InfoGAN CelebA setups, from the 178x218 aligned images
CELEBA_SPLITS = {"train": "0", "test": "2"}  # list_eval_partition.txt: 0 train, 1 valid, 2 test


def list_images(root: Path) -> list[Path]:
    """Every file with an image suffix below `root`, sorted for a stable order."""
    if not root.is_dir():
        raise InfoGANError(f"image folder {root} does not exist: pass --data with a folder of images")
    files = sorted(p for p in root.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file())
    if not files:
        raise InfoGANError(f"image folder {root} holds no JPEG/PNG images: pass --data with a folder of images")
    return files


def folder_labels(root: Path, files: list[Path]) -> np.ndarray | None:
    """Class labels from the first-level subfolders when there are at least two, else None."""
    classes = sorted({p.relative_to(root).parts[0] for p in files if len(p.relative_to(root).parts) > 1})
    if len(classes) < 2 or any(len(p.relative_to(root).parts) == 1 for p in files):
        return None
    index = {name: i for i, name in enumerate(classes)}
    return np.array([index[p.relative_to(root).parts[0]] for p in files], dtype=np.int64)


def load_image(path: Path | BinaryIO, size: int, channels: int, crop: int | None) -> np.ndarray:
    """(H, W, C) uint8: centre crop (`crop` px, or the largest square), resize to `size`, grey or RGB."""
    with Image.open(path) as image:
        image = image.convert("RGB" if channels == 3 else "L")
        width, height = image.size
        side = min(crop or min(width, height), width, height)
        left, top = (width - side) // 2, (height - side) // 2
        image = image.crop((left, top, left + side, top + side)).resize((size, size), Image.Resampling.LANCZOS)
        return np.asarray(image, dtype=np.uint8).reshape(size, size, channels)


def decode_all(
    files: list[Path], size: int, channels: int, crop: int | None, skip_bad: bool
) -> tuple[np.ndarray, np.ndarray]:
    """Decode `files` on a few threads (Pillow releases the GIL): (images, mask of files kept).

    A bad file fails the load, or is skipped with a warning when `skip_bad`.
    """

    def decode(path: Path) -> np.ndarray | None:
        try:
            return load_image(path, size, channels, crop)
        except (OSError, UnidentifiedImageError, ValueError) as error:
            if not skip_bad:
                raise InfoGANError(f"cannot read image {path} ({error}): remove it or pass --skip-bad-images") from None
            return None

    with ThreadPoolExecutor(max_workers=4) as pool:
        decoded = list(pool.map(decode, files))
    bad = sum(image is None for image in decoded)
    if bad:
        log.warning("skipped %d unreadable image(s) of %d", bad, len(files))
    good = [image for image in decoded if image is not None]
    if not good:
        raise InfoGANError("no image in the folder could be read")
    return np.stack(good), np.array([image is not None for image in decoded])


def cache_key(files: list[Path], size: int, channels: int, crop: int | None) -> str:
    """Changes when the file list, any file's size or time, or the preprocessing changes."""
    digest = hashlib.sha1(f"{size}/{channels}/{crop}".encode())
    for path in files:
        stat = path.stat()
        digest.update(f"{path}|{stat.st_size}|{stat.st_mtime_ns}\n".encode())
    return digest.hexdigest()[:16]


def load_folder(
    root: str | Path,
    size: int,
    channels: int,
    crop: int | None = None,
    skip_bad: bool = False,
    files: list[Path] | None = None,
) -> tuple[np.ndarray, np.ndarray | None]:
    """Images (N, H, W, C) uint8 and labels (N,) or None, from a folder (or the given files of it)."""
    root = Path(root)
    files = files if files is not None else list_images(root)
    labels = folder_labels(root, files)
    cache = cache_dir("folders") / f"{cache_key(files, size, channels, crop)}.npz"
    if cache.is_file():
        with np.load(cache) as stored:
            kept = stored["kept"]
            return stored["images"], (labels[kept] if labels is not None else None)
    log.info("decoding %d images from %s (cached for next time)", len(files), root)
    images, kept = decode_all(files, size, channels, crop, skip_bad)
    cache.parent.mkdir(parents=True, exist_ok=True)
    partial = cache.with_suffix(".part.npz")
    np.savez(partial, images=images, kept=kept)
    partial.replace(cache)
    return images, (labels[kept] if labels is not None else None)


def celeba_files(root: Path, split: str) -> list[Path]:
    """CelebA's aligned images (root/img_align_celeba/*.jpg, or root itself), split by
    list_eval_partition.txt when it is present (otherwise every image is in each split)."""
    image_dir = root / "img_align_celeba" if (root / "img_align_celeba").is_dir() else root
    files = list_images(image_dir)
    partition = root / "list_eval_partition.txt"
    if not partition.is_file():
        log.warning("%s not found: using all %d images for split %r", partition, len(files), split)
        return files
    wanted = {
        name
        for name, part in (line.split() for line in partition.read_text().splitlines() if line.strip())
        if part == CELEBA_SPLITS[split]
    }
    return [p for p in files if p.name in wanted]
