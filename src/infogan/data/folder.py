"""Image folders: CelebA's layout and any folder of JPEG/PNG files, decoded once into uint8 arrays.

Each image is turned upright by its EXIF orientation (as viewers show photos), centre-cropped to a
square (CelebA: the standard face crop, 108 px of the 178 px wide original, scaled with the image),
resized with Pillow and converted to grey or RGB;
16-bit images are scaled to 8 bits. Images in two or more class subfolders get those folders as
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
from PIL import Image, ImageOps

from infogan.cache import cache_dir
from infogan.errors import InfoGANError, first_line
from infogan.files import atomic_write

log = logging.getLogger(__name__)

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".webp", ".gif", ".tif", ".tiff"}
# the face crop of the DCGAN and InfoGAN CelebA setups, 108x108 of the 178x218 aligned images, as a share of
# the width: a half-size copy (89x109) gets 54 px, and both frame the same face
CELEBA_CROP = 108 / 178
CELEBA_ATTRIBUTES = "list_attr_celeba.txt"
CELEBA_PARTITION = "list_eval_partition.txt"
CELEBA_SPLITS = {"train": "0", "test": "2"}  # list_eval_partition.txt: 0 train, 1 valid, 2 test
# Pillow's own bomb threshold (about 89 million pixels), past which it only warns up to twice that:
# here a larger image is refused before it is decoded, as no 64x64 training image needs one.
MAX_IMAGE_PIXELS = Image.MAX_IMAGE_PIXELS
# and a longest side: Pillow's cost grows with the rows as well as the pixels (four 1 x 80M-pixel PNGs of
# 155 KB took 4.45 GB and 17 s), while a photo, even a panorama, is far shorter than this
MAX_IMAGE_SIDE = 32768
# The version of to_array's output, in the cache key: bumped when the decoded pixels change (2: the square is
# cut in sub-pixel coordinates), so that a cache decoded the old way is not reused.
PREPROCESSING = 2
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
    max_side: int = MAX_IMAGE_SIDE,
    formats: tuple[str, ...] | None = None,
) -> Image.Image:
    """Open an image, reading its header only, and refuse it before it is decoded when it has more than
    `max_pixels` pixels or a side longer than `max_side` (Pillow's cost grows with the rows as well as
    the pixels: a 1 x 16M-pixel PNG takes longer and far more memory to decode than a 4096 x 4096 one)."""
    limit = f"{max_pixels:,} pixels and {max_side} on a side"
    try:
        image = Image.open(source, formats=formats)
    except Image.DecompressionBombError:  # Pillow's own check, at twice Image.MAX_IMAGE_PIXELS
        raise ImageTooLarge(f"the image has far more than the {max_pixels:,} pixels allowed: shrink it") from None
    width, height = image.size
    if width * height > max_pixels or max(width, height) > max_side:
        image.close()
        raise ImageTooLarge(f"the image is {width}x{height} pixels, more than the {limit} allowed: shrink it")
    return image


def to_array(image: Image.Image, size: int, channels: int, crop: float | None) -> np.ndarray:
    """Decode an opened image to (H, W, C) uint8 as a viewer shows it: upright by its EXIF orientation (a
    phone's portrait photo is stored sideways), 8 bits per channel, centre square crop (`crop`: its side as
    a share of the width; None: the largest square), resize to `size`, grey or RGB."""
    ImageOps.exif_transpose(image, in_place=True)
    image = eight_bit(image).convert("RGB" if channels == 3 else "L")
    width, height = image.size
    # the square in sub-pixel coordinates: a face crop rounded to whole pixels frames a half-size copy a full
    # pixel off (35, 55 of 178x218 against 17, 27 of 89x109), 5/255 apart on average at 32x32 against 0.2
    side = min(width * crop if crop else width, width, height)
    left, top = (width - side) / 2, (height - side) / 2
    image = image.resize((size, size), Image.Resampling.LANCZOS, box=(left, top, left + side, top + side))
    return np.asarray(image, dtype=np.uint8).reshape(size, size, channels)


def eight_bit(image: Image.Image) -> Image.Image:
    """16-bit grey (modes I;16, I;16B, I;16L: PNG, TIFF) scaled to 0..255, where Pillow's convert would clip
    every value above 255 to white; Pillow already reads 16-bit RGB(A) by the high byte. A 32-bit image
    (I, F) has no standard scale: its values are read as 8-bit ones when they lie in 0..255, else refused."""
    if image.mode.startswith("I;16"):
        values = np.asarray(image).astype(np.uint32)  # (H, W), whatever the byte order
        return Image.fromarray(((values + 128) // 257).astype(np.uint8), "L")  # 65535 -> 255, 32768 -> 128
    if image.mode in ("I", "F"):
        low, high = image.getextrema()
        if low < 0 or high > 255:
            raise ValueError(
                f"a 32-bit image with values from {low} to {high}, which have no standard scale: "
                "save it with 8 or 16 bits per channel"
            )
    return image


def load_image(path: Path | BinaryIO, size: int, channels: int, crop: float | None) -> np.ndarray:
    """(H, W, C) uint8 from an image file, as the data loaders feed the model (see to_array)."""
    with open_image(path) as image:
        return to_array(image, size, channels, crop)


def decode_all(
    files: list[Path], size: int, channels: int, crop: float | None, skip_bad: bool
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


def cache_key(files: list[Path], size: int, channels: int, crop: float | None) -> str:
    """Changes when the file list, any file's size or time, or the preprocessing changes.

    Names are hashed as the bytes the file system holds (os.fsencode): a name that is not UTF-8
    is a valid file name, and its image is read like any other."""
    digest = hashlib.sha1(f"{PREPROCESSING}/{size}/{channels}/{crop}".encode())
    for path in files:
        stat = path.stat()
        digest.update(os.fsencode(path) + f"|{stat.st_size}|{stat.st_mtime_ns}\n".encode())
    return digest.hexdigest()[:16]


def load_folder(
    root: str | Path,
    size: int,
    channels: int,
    crop: float | None = None,
    skip_bad: bool = False,
    files: list[Path] | None = None,
) -> tuple[np.ndarray, np.ndarray | None, list[Path]]:
    """Images (N, H, W, C) uint8, labels (N,) or None, and the N files they came from, from a folder (or
    the given files of it)."""
    root = Path(root)
    files = files if files is not None else list_images(root)
    labels = folder_labels(root, files)
    cache = cache_dir("folders") / f"{cache_key(files, size, channels, crop)}.npz"
    stored = read_cache(cache, len(files), (size, size, channels)) if cache.is_file() else None
    if stored is None:
        log.info("decoding %d images from %s (cached for next time)", len(files), root)
        stored = decode_all(files, size, channels, crop, skip_bad)
        try:
            with atomic_write(cache) as handle:
                np.savez(handle, images=stored[0], kept=stored[1])
        except InfoGANError as error:  # a full or read-only cache costs the next load a decode, not this one
            log.warning("%s: the images will be decoded again next time", error)
    images, kept = stored
    return images, (labels[kept] if labels is not None else None), list(compress(files, kept))


def read_cache(cache: Path, files: int, shape: tuple[int, int, int]) -> tuple[np.ndarray, np.ndarray] | None:
    """The images and kept-mask of a folder cache, or None with a warning when it does not load or does not
    fit `files` files of images of `shape` (H, W, C): a damaged cache is decoded again, not a lasting error."""
    try:
        with np.load(cache) as stored:
            images, kept = stored["images"], stored["kept"]
    # as with checkpoints, a damaged zip or array header raises almost any exception type, by the byte hit
    except Exception as error:
        reason = first_line(error)
    else:
        if (
            images.dtype == np.uint8
            and images.shape[1:] == shape
            and kept.shape == (files,)
            and kept.sum() == len(images)
        ):
            return images, kept.astype(bool)
        reason = f"it holds images {images.shape} and a mask {kept.shape} that do not fit {files} files of {shape}"
    log.warning("the decoded images cached in %s do not load (%s): decoding the images again", cache, reason)
    return None


def celeba_image_dir(root: Path) -> Path:
    """CelebA's aligned images: root/img_align_celeba, or root itself."""
    return root / "img_align_celeba" if (root / "img_align_celeba").is_dir() else root


def celeba_files(root: Path, split: str) -> list[Path] | None:
    """CelebA's aligned images of `split`, by list_eval_partition.txt; None when the folder has no such
    file (one split: the caller holds out a fixed part). Every image the file names must be present."""
    image_dir = celeba_image_dir(root)
    files = list_images(image_dir)
    partition = root / CELEBA_PARTITION
    if not partition.is_file():
        return None
    rows = read_table(partition, 2, "`FILE PARTITION`", "delete it to hold out a fixed part of the images")
    unknown = next(((number, row[1]) for number, row in rows if row[1] not in ("0", "1", "2")), None)
    if unknown is not None:
        raise InfoGANError(
            f"{partition} line {unknown[0]} has partition {unknown[1]!r}, not 0 (train), 1 (valid) or 2 (test): "
            "restore CelebA's file"
        )
    by_name = {p.name: p for p in files}
    missing = [row[0] for _, row in rows if row[0] not in by_name]
    if missing and len(missing) == len(rows):
        raise InfoGANError(
            f"{partition} names none of the {len(files)} images in {image_dir}: "
            "pass --data with the CelebA folder the file belongs to, or restore CelebA's file"
        )
    if missing:
        raise InfoGANError(
            f"{partition} names {len(missing)} image(s) missing from {image_dir} (first: {missing[0]}): "
            "restore them, or delete the file to hold out a fixed part of the images"
        )
    chosen = [by_name[row[0]] for _, row in rows if row[1] == CELEBA_SPLITS[split]]
    if not chosen:
        raise InfoGANError(
            f"{partition} names no image for split {split} (partition {CELEBA_SPLITS[split]}): restore CelebA's file"
        )
    return sorted(chosen)


def read_table(path: Path, columns: int, form: str, fix: str, skip: int = 0) -> list[tuple[int, list[str]]]:
    """The non-blank lines of one of CelebA's text files after the first `skip` of them, as (line number,
    fields), each with `columns` fields; a byte-order mark and CRLF endings are read as plain text."""
    try:
        lines = path.read_bytes().decode("utf-8-sig").splitlines()  # -sig: a byte-order mark is no file name
    except UnicodeDecodeError as error:
        raise InfoGANError(f"{path} is not a text file ({error}): restore CelebA's file") from None
    rows = [(number, line.split()) for number, line in enumerate(lines, 1) if line.strip()][skip:]
    if not rows:
        raise InfoGANError(f"{path} is empty: restore CelebA's file, or {fix}")
    malformed = next(((number, row) for number, row in rows if columns and len(row) != columns), None)
    if malformed is not None:
        number, row = malformed
        raise InfoGANError(
            f"{path} line {number} has {len(row)} field(s), not {columns} ({form}): restore CelebA's file, or {fix}"
        )
    return rows


def celeba_attributes(root: Path, files: list[Path]) -> tuple[np.ndarray, list[str]] | None:
    """CelebA's 40 binary attributes of `files` from root/list_attr_celeba.txt, as (N, 40) uint8 0/1 and
    their names, or None when the folder has no such file. Labels for evaluation only: never trained on.
    Every image of the folder needs a line; a line for a file the folder lacks is ignored (a subset of CelebA)."""
    path = root / CELEBA_ATTRIBUTES
    if not path.is_file():
        return None
    fix = "delete it to train without attributes"
    head = read_table(path, 0, "", fix)[:2]  # the count of images, then the names of the attributes
    if len(head) < 2 or len(head[0][1]) != 1:
        raise InfoGANError(
            f"{path} does not start with a count line and a line of names: restore CelebA's file, or {fix}"
        )
    names = head[1][1]
    rows = read_table(path, len(names) + 1, f"a file name and {len(names)} values of 1 or -1", fix, skip=2)
    values: dict[str, list[str]] = {row[0]: row[1:] for _, row in rows}
    bad = next(((number, value) for number, row in rows for value in row[1:] if value not in ("1", "-1")), None)
    if bad is not None:
        raise InfoGANError(
            f"{path} line {bad[0]} has the value {bad[1]!r}, not 1 or -1: restore CelebA's file, or {fix}"
        )
    # every image of the folder, not only `files`: a split's run then fails the same whichever split lacks a line
    image_dir = celeba_image_dir(root)
    every = list_images(image_dir)
    absent = [p.name for p in every if p.name not in values]
    if absent:
        raise InfoGANError(
            f"{path} has no line for {len(absent)} of the {len(every)} images in {image_dir} (first: {absent[0]}): "
            f"add a line for each image (restore CelebA's file), or {fix}"
        )
    table = np.array([values[p.name] for p in files], dtype=np.int8)
    return (table > 0).astype(np.uint8), names
