"""Small data sets made by the tests: IDX files cut from the embedded digits, and image folders."""

from __future__ import annotations

import shutil
import struct
import tempfile
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from infogan.data.idx import write_idx
from infogan.data.mnist import load_embedded_mnist

torch.set_num_threads(2)


@pytest.fixture(scope="session", autouse=True)
def private_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Every cache (decoded folders, classifiers, dSprites, MNIST downloads) in a temporary folder, never
    the user's ~/.cache/infogan; the variables reach the subprocesses tests start, too."""
    with pytest.MonkeyPatch.context() as patch:
        cache = tmp_path_factory.mktemp("cache")
        patch.setenv("INFOGAN_CACHE", str(cache))
        patch.delenv("INFOGAN_CLASSIFIERS", raising=False)
        yield cache


@pytest.fixture(scope="module")
def module_tmp(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[[str], Path]]:
    """mktemp for module-scoped fixtures, whose folders go when their module ends, not with the session:
    their runs hold 160 MB checkpoints, and all of them kept to the end of the session filled a CI disk
    (with pyproject's tmp_path_retention_policy, the suite's disk peak stays near one module's)."""
    root = tmp_path_factory.mktemp("module")
    yield lambda name: Path(tempfile.mkdtemp(prefix=f"{name}-", dir=root))
    shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="session")
def digits() -> tuple[np.ndarray, np.ndarray]:
    return load_embedded_mnist()


@pytest.fixture(scope="session")
def mnist_dir(tmp_path_factory: pytest.TempPathFactory, digits) -> Path:
    """A folder of the four standard MNIST IDX files (gzipped): 160 training and 80 test digits."""
    images, labels = digits
    directory = tmp_path_factory.mktemp("mnist")
    write_idx(directory / "train-images-idx3-ubyte.gz", images[:160])
    write_idx(directory / "train-labels-idx1-ubyte.gz", labels[:160].astype(np.uint8))
    write_idx(directory / "t10k-images-idx3-ubyte.gz", images[4000:4080])
    write_idx(directory / "t10k-labels-idx1-ubyte.gz", labels[4000:4080].astype(np.uint8))
    return directory


def write_images(folder: Path, count: int, size: tuple[int, int], mode: str = "RGB", suffix: str = ".png") -> None:
    """`count` random images of `size` (W, H) in `folder`."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(count)
    channels = 3 if mode == "RGB" else 1
    for i in range(count):
        pixels = rng.integers(0, 256, (size[1], size[0], channels), dtype=np.uint8)
        Image.fromarray(pixels.squeeze(2) if channels == 1 else pixels, mode).save(folder / f"{i:06d}{suffix}")


# CelebA's 40 attributes, in the order of the names line of list_attr_celeba.txt
CELEBA_ATTRIBUTE_NAMES = [
    "5_o_Clock_Shadow",
    "Arched_Eyebrows",
    "Attractive",
    "Bags_Under_Eyes",
    "Bald",
    "Bangs",
    "Big_Lips",
    "Big_Nose",
    "Black_Hair",
    "Blond_Hair",
    "Blurry",
    "Brown_Hair",
    "Bushy_Eyebrows",
    "Chubby",
    "Double_Chin",
    "Eyeglasses",
    "Goatee",
    "Gray_Hair",
    "Heavy_Makeup",
    "High_Cheekbones",
    "Male",
    "Mouth_Slightly_Open",
    "Mustache",
    "Narrow_Eyes",
    "No_Beard",
    "Oval_Face",
    "Pale_Skin",
    "Pointy_Nose",
    "Receding_Hairline",
    "Rosy_Cheeks",
    "Sideburns",
    "Smiling",
    "Straight_Hair",
    "Wavy_Hair",
    "Wearing_Earrings",
    "Wearing_Hat",
    "Wearing_Lipstick",
    "Wearing_Necklace",
    "Wearing_Necktie",
    "Young",
]


def celeba_attribute_lines(names: list[str], table: np.ndarray) -> list[str]:
    """list_attr_celeba.txt as CelebA writes it: the count of images, the attribute names, then each file
    name with its attributes as 1 or -1 (`table`: (N, 40) 0/1), padded to two characters as in the original."""
    rows = [
        f"{name} " + " ".join(f"{2 * value - 1:2d}" for value in row) for name, row in zip(names, table, strict=True)
    ]
    return [str(len(names)), " ".join(CELEBA_ATTRIBUTE_NAMES), *rows]


@pytest.fixture
def class_folder(tmp_path: Path) -> Path:
    """Two class subfolders of differently sized and moded images."""
    write_images(tmp_path / "cats", 5, (40, 30), "RGB", ".jpg")
    write_images(tmp_path / "dogs", 3, (30, 50), "L", ".png")
    return tmp_path


def png(width: int, height: int, bits: int, colour_type: int, pixels: bytes) -> bytes:
    """A PNG file written by hand, for what Pillow does not write (16-bit RGB) or cannot hold in memory."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, bits, colour_type, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(pixels)) + chunk(b"IEND", b"")


def png_header(width: int, height: int) -> bytes:
    """A PNG that declares width x height 8-bit grey pixels but holds no pixel data: what a decompression
    bomb's header says, without the memory it takes to make one."""
    return png(width, height, 8, 0, b"")


def png16(width: int, height: int, channels: int, value: int) -> bytes:
    """A 16-bit PNG of one `value` everywhere: grey (1 channel), grey and alpha (2), RGB (3) or RGBA (4)."""
    row = b"\x00" + struct.pack(">H", value) * channels * width  # filter byte 0, then big-endian samples
    return png(width, height, 16, {1: 0, 2: 4, 3: 2, 4: 6}[channels], row * height)
