"""CelebA folders at any size: the face crop, the split with and without list_eval_partition.txt, and the
40 attributes of list_attr_celeba.txt, on folders the tests generate and on the real faces when present."""

import logging
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch
from conftest import CELEBA_ATTRIBUTE_NAMES, celeba_attribute_lines, write_images
from PIL import Image

from infogan.cli import main
from infogan.config import TrainConfig
from infogan.data import HOLDOUT_FRACTION, load_dataset
from infogan.data.folder import load_image

REAL_FACES = Path(__file__).resolve().parents[2] / "shared" / "data" / "celeba-10k"


def celeba_config(root: Path, size: int = 32) -> TrainConfig:
    return TrainConfig(dataset="celeba", data_dir=str(root), image_size=size, channels=3)


def both_splits(root: Path, size: int = 32):
    config = celeba_config(root, size)
    return load_dataset(config, "train"), load_dataset(config, "test")


def names(data) -> list[str]:
    return [p.name for p in data.files]


def face_pattern(seed: int) -> Image.Image:
    """A smooth 178x218 picture whose colours vary with the position, so that any other framing shows."""
    v, u = np.mgrid[0:218, 0:178] / np.array([218.0, 178.0])[:, None, None]
    red = 0.5 + 0.5 * np.sin(2 * np.pi * (3 * u + seed / 7))
    green = 0.5 + 0.5 * np.cos(2 * np.pi * (2 * v + seed / 5))
    blue = u * v
    return Image.fromarray((np.stack([red, green, blue], -1) * 255).round().astype(np.uint8), "RGB")


def test_the_face_crop_scales_with_the_image(tmp_path):
    """108 px of a 178 px wide original and 54 px of its half-size copy frame the same face."""
    full, half = tmp_path / "full" / "img_align_celeba", tmp_path / "half" / "img_align_celeba"
    full.mkdir(parents=True)
    half.mkdir(parents=True)
    for i in range(5):
        picture = face_pattern(i)
        picture.save(full / f"{i:06d}.png")
        picture.resize((89, 109), Image.Resampling.LANCZOS).save(half / f"{i:06d}.png")
    large, small = load_dataset(celeba_config(full.parent)), load_dataset(celeba_config(half.parent))
    assert names(large) == names(small) and large.images.shape == (4, 3, 32, 32)
    apart = (large.images.float() - small.images.float()).abs().mean()
    # framed as a plain folder frames it (the largest square), the half-size copy shows another part of the face
    square = torch.from_numpy(np.stack([load_image(p, 32, 3, None) for p in small.files])).permute(0, 3, 1, 2)
    misframed = (large.images.float() - square.float()).abs().mean()
    assert apart < 2 and misframed > 10 * apart, (apart, misframed)


def test_without_a_partition_file_a_fixed_fifth_is_held_out(tmp_path):
    write_images(tmp_path / "img_align_celeba", 30, (40, 50), "RGB", ".jpg")
    train, test = both_splits(tmp_path)
    every = sorted(p.name for p in (tmp_path / "img_align_celeba").iterdir())
    assert sorted(names(train) + names(test)) == every and not set(names(train)) & set(names(test))
    assert len(test) == int(30 * HOLDOUT_FRACTION) == 6 and len(train) == 24
    assert "held-out part" in test.name and "all but the held-out part" in train.name
    again_train, again_test = both_splits(tmp_path)
    assert names(again_test) == names(test) and names(again_train) == names(train)
    assert torch.equal(again_test.images, test.images)


def test_a_partition_file_chooses_the_splits(tmp_path):
    write_images(tmp_path / "img_align_celeba", 6, (89, 109), "RGB", ".jpg")
    rows = "".join(f"{i:06d}.jpg {split}\n" for i, split in enumerate([0, 0, 1, 2, 0, 2]))
    (tmp_path / "list_eval_partition.txt").write_text(rows)
    train, test = both_splits(tmp_path)
    assert names(train) == ["000000.jpg", "000001.jpg", "000004.jpg"]  # 1 (valid) is in neither
    assert names(test) == ["000003.jpg", "000005.jpg"]


@pytest.mark.parametrize("partition", [False, True], ids=["one-split", "partition-file"])
def test_attributes_follow_their_files(partition, tmp_path):
    """Lines in another order, and one for a file the folder lacks: each image gets its own line's values."""
    write_images(tmp_path / "img_align_celeba", 12, (89, 109), "RGB", ".jpg")
    files = [f"{i:06d}.jpg" for i in range(12)]
    table = np.random.default_rng(0).integers(0, 2, (13, 40))
    lines = celeba_attribute_lines([*files, "999999.jpg"], table)
    (tmp_path / "list_attr_celeba.txt").write_text("\n".join(lines[:2] + lines[:1:-1]) + "\n")  # rows reversed
    if partition:
        rows = "".join(f"{name} {2 if i % 3 == 0 else 0}\n" for i, name in enumerate(files))  # 0 train, 2 test
        (tmp_path / "list_eval_partition.txt").write_text(rows)
    for data in both_splits(tmp_path):
        assert data.labels is None  # attributes are for evaluation only, never trained on
        assert data.attribute_names == CELEBA_ATTRIBUTE_NAMES and data.attributes.dtype == torch.uint8
        assert data.attributes.tolist() == [table[int(p.stem)].tolist() for p in data.files]


def test_no_attribute_file_no_attributes(tmp_path):
    write_images(tmp_path / "img_align_celeba", 10, (89, 109), "RGB", ".jpg")
    for data in both_splits(tmp_path):
        assert data.attributes is None and data.attribute_names is None and data.labels is None


def test_an_attribute_file_with_crlf_endings_and_a_byte_order_mark_is_plain_text(tmp_path):
    """As Windows' Notepad saves it."""
    write_images(tmp_path / "img_align_celeba", 10, (89, 109), "RGB", ".jpg")
    table = np.random.default_rng(1).integers(0, 2, (10, 40))
    lines = celeba_attribute_lines([f"{i:06d}.jpg" for i in range(10)], table)
    (tmp_path / "list_attr_celeba.txt").write_bytes(b"\xef\xbb\xbf" + "\r\n".join(lines).encode() + b"\r\n")
    for data in both_splits(tmp_path):
        assert data.attribute_names == CELEBA_ATTRIBUTE_NAMES
        assert data.attributes.tolist() == [table[int(p.stem)].tolist() for p in data.files]


def test_grey_jpegs_and_other_sizes_load_as_rgb(tmp_path):
    images = tmp_path / "img_align_celeba"
    for kind, size, mode, suffix in [
        ("full", (178, 218), "RGB", ".jpg"),
        ("grey", (89, 109), "L", ".jpg"),
        ("wide", (60, 40), "RGB", ".png"),
        ("tiny", (20, 24), "L", ".png"),
    ]:
        write_images(tmp_path / kind, 3, size, mode, suffix)
        for path in (tmp_path / kind).iterdir():
            images.mkdir(exist_ok=True)
            shutil.move(path, images / f"{kind}-{path.name}")
    train, test = both_splits(tmp_path)
    assert len(train) + len(test) == 12 and train.images.shape[1:] == test.images.shape[1:] == (3, 32, 32)
    for data in (train, test):
        for path, image in zip(data.files, data.images, strict=True):
            grey = torch.equal(image[0], image[1]) and torch.equal(image[1], image[2])
            assert grey == path.name.startswith(("grey", "tiny")), path.name


def test_training_says_faces_are_measured_by_their_attributes(tmp_path, caplog):
    write_images(tmp_path / "img_align_celeba", 20, (89, 109), "RGB", ".jpg")
    lines = celeba_attribute_lines([f"{i:06d}.jpg" for i in range(20)], np.zeros((20, 40), int))
    (tmp_path / "list_attr_celeba.txt").write_text("\n".join(lines) + "\n")
    args = ["--preset", "celeba", "--data", str(tmp_path), "--out", str(tmp_path / "r"), "--steps", "1"]
    with caplog.at_level(logging.INFO):
        main(["train", *args, "--batch-size", "8"])
    said = [r.getMessage() for r in caplog.records if r.getMessage().startswith("no clustering score")]
    assert len(said) == 1 and "\n" not in said[0], said
    assert "holds faces, which have no classes" in said[0] and "infogan evaluate --metrics attributes" in said[0]


@pytest.mark.skipif(not REAL_FACES.is_dir(), reason=f"the real faces are not here ({REAL_FACES})")
def test_the_real_ten_thousand_faces():
    train, test = both_splits(REAL_FACES)
    assert (len(train), len(test)) == (8000, 2000) and train.images.shape[1:] == (3, 32, 32)
    assert train.attribute_names == CELEBA_ATTRIBUTE_NAMES and train.attributes.shape == (8000, 40)
    assert test.attributes.shape == (2000, 40) and train.labels is None
    every = torch.cat([train.attributes, test.attributes]).float().mean(0)
    shares = dict(zip(CELEBA_ATTRIBUTE_NAMES, every.tolist(), strict=True))
    # the README's shares, to its two decimals
    assert abs(shares["Male"] - 0.42) < 0.006 and abs(shares["Eyeglasses"] - 0.07) < 0.006, shares
