import gzip
from pathlib import Path

import numpy as np
import pytest
import torch

from infogan.config import TrainConfig
from infogan.data import batches, load_dataset, to_unit_range
from infogan.data.idx import parse_idx, read_idx, write_idx
from infogan.data.mnist import load_idx_pair
from infogan.errors import InfoGANError

FASHION = Path("/usr/share/datasets/fashion-mnist")


@pytest.mark.parametrize("name", ["a.idx", "a.idx.gz"])
def test_idx_round_trip(tmp_path, name):
    array = np.arange(2 * 3 * 4, dtype=np.uint8).reshape(2, 3, 4)
    write_idx(tmp_path / name, array)
    assert np.array_equal(read_idx(tmp_path / name), array)


def test_idx_other_types_are_read_big_endian(tmp_path):
    array = np.array([1.5, -2.0, 3.25], dtype=np.float32)
    write_idx(tmp_path / "f.idx", array)
    assert np.array_equal(read_idx(tmp_path / "f.idx"), array)
    header = bytes([0, 0, 0x0C, 1, 0, 0, 0, 2]) + (258).to_bytes(4, "big") + (7).to_bytes(4, "big")
    assert parse_idx(header).tolist() == [258, 7]


def test_idx_errors(tmp_path):
    with pytest.raises(InfoGANError, match="bad magic"):
        parse_idx(b"\x01\x02\x08\x01")
    with pytest.raises(InfoGANError, match="truncated or corrupt"):
        parse_idx(bytes([0, 0, 8, 1, 0, 0, 0, 5, 1, 2]))
    with pytest.raises(InfoGANError, match="header"):
        parse_idx(bytes([0, 0, 8, 3, 0, 0]))
    broken = tmp_path / "broken.gz"
    broken.write_bytes(gzip.compress(bytes([0, 0, 8, 1, 0, 0, 0, 3, 1, 2, 3]))[:-6])
    with pytest.raises(InfoGANError, match="corrupt or truncated gzip"):
        read_idx(broken)
    with pytest.raises(InfoGANError, match="not found"):
        read_idx(tmp_path / "missing")


def test_idx_pair_checks_counts(tmp_path):
    write_idx(tmp_path / "train-images-idx3-ubyte", np.zeros((4, 28, 28), np.uint8))
    write_idx(tmp_path / "train-labels-idx1-ubyte", np.zeros(3, np.uint8))
    with pytest.raises(InfoGANError, match="3,\\) labels for 4 images"):
        load_idx_pair(tmp_path, "train")
    with pytest.raises(InfoGANError, match="t10k-images-idx3-ubyte"):
        load_idx_pair(tmp_path, "test")


def test_mnist_from_idx_files(mnist_dir, digits):
    config = TrainConfig(data_dir=str(mnist_dir))
    train, test = load_dataset(config), load_dataset(config, split="test")
    assert train.images.shape == (160, 1, 28, 28) and train.images.dtype == torch.uint8
    assert test.images.shape == (80, 1, 28, 28)
    assert torch.equal(train.labels, torch.from_numpy(digits[1][:160]))


def test_embedded_digits():
    data = load_dataset(TrainConfig())
    assert data.name == "mnist-5k"
    assert data.images.shape == (5000, 1, 28, 28)
    assert torch.bincount(data.labels).tolist() == [500] * 10
    assert data.images.float().mean() > 20  # real strokes, not blank images


@pytest.mark.skipif(not FASHION.is_dir(), reason="Debian's dataset-fashion-mnist is not installed")
def test_real_fashion_mnist_files():
    config = TrainConfig(dataset="fashion-mnist")
    train, test = load_dataset(config), load_dataset(config, split="test")
    assert train.images.shape == (60000, 1, 28, 28) and test.images.shape == (10000, 1, 28, 28)
    assert torch.bincount(test.labels).tolist() == [1000] * 10


def test_shape_mismatch_names_the_flags(mnist_dir):
    with pytest.raises(InfoGANError, match="--image-size and --channels"):
        load_dataset(TrainConfig(data_dir=str(mnist_dir), image_size=64, channels=3))


def test_image_folder_with_class_subfolders(class_folder):
    config = TrainConfig(dataset="folder", data_dir=str(class_folder), image_size=32, channels=3)
    data = load_dataset(config)
    assert data.images.shape == (8, 3, 32, 32)
    assert data.labels.tolist() == [0] * 5 + [1] * 3  # cats, dogs
    grey = load_dataset(TrainConfig(dataset="folder", data_dir=str(class_folder), image_size=28))
    assert grey.images.shape == (8, 1, 28, 28)


def test_corrupt_image_fails_or_is_skipped(class_folder):
    (class_folder / "cats" / "bad.jpg").write_bytes(b"not a jpeg")
    (class_folder / "notes.txt").write_text("ignored: not an image suffix")
    config = TrainConfig(dataset="folder", data_dir=str(class_folder), image_size=32, channels=3)
    with pytest.raises(InfoGANError, match=r"bad\.jpg.*--skip-bad-images"):
        load_dataset(config)
    config.skip_bad_images = True
    assert len(load_dataset(config)) == 8


def test_celeba_layout_and_partition(tmp_path):
    from conftest import write_images

    write_images(tmp_path / "img_align_celeba", 6, (178, 218), "RGB", ".jpg")
    partition = "".join(f"{i:06d}.jpg {0 if i < 4 else 2}\n" for i in range(6))
    (tmp_path / "list_eval_partition.txt").write_text(partition)
    config = TrainConfig(dataset="celeba", data_dir=str(tmp_path), image_size=64, channels=3)
    train, test = load_dataset(config), load_dataset(config, split="test")
    assert train.images.shape == (4, 3, 64, 64) and test.images.shape == (2, 3, 64, 64)
    assert train.labels is None


def test_missing_folder_errors(tmp_path):
    with pytest.raises(InfoGANError, match="does not exist"):
        load_dataset(TrainConfig(data_dir=str(tmp_path / "nope")))
    with pytest.raises(InfoGANError, match="no JPEG/PNG"):
        load_dataset(TrainConfig(dataset="folder", data_dir=str(tmp_path)))
    with pytest.raises(InfoGANError, match="needs --data"):
        load_dataset(TrainConfig(dataset="celeba"))


def test_batches_are_a_seeded_permutation_split_across_ranks(mnist_dir):
    data = load_dataset(TrainConfig(data_dir=str(mnist_dir)))
    epoch = batches(data, 32, torch.Generator().manual_seed(0))
    assert len(epoch) == 5 and sorted(torch.cat(epoch).tolist()) == list(range(160))
    again = batches(data, 32, torch.Generator().manual_seed(0))
    assert all(torch.equal(a, b) for a, b in zip(epoch, again, strict=True))
    ranks = [torch.cat(batches(data, 16, torch.Generator().manual_seed(0), r, 2)) for r in (0, 1)]
    assert not set(ranks[0].tolist()) & set(ranks[1].tolist())


def test_unit_range():
    assert to_unit_range(torch.tensor([0, 255], dtype=torch.uint8)).tolist() == [-1.0, 1.0]


def test_caches_follow_infogan_cache_and_the_tests_keep_out_of_home(tmp_path_factory, monkeypatch, class_folder):
    from infogan.cache import cache_dir
    from infogan.data.folder import load_folder
    from infogan.data.mnist import standard_dirs
    from infogan.metrics.domain_classifier import cache_folder

    assert Path.home() / ".cache" not in cache_dir().parents  # conftest's temporary cache
    cache = tmp_path_factory.mktemp("moved-cache")
    monkeypatch.setenv("INFOGAN_CACHE", str(cache))
    load_folder(class_folder, 8, 1)
    assert len(list((cache / "folders").glob("*.npz"))) == 1
    assert cache_folder()[0] == cache / "classifiers" and standard_dirs("mnist") == (cache / "mnist",)


def test_the_embedded_digits_are_parsed_and_announced_once_per_process(caplog):
    from infogan.data import labelled_splits
    from infogan.data.mnist import read_embedded_mnist

    read_embedded_mnist.cache_clear()
    with caplog.at_level("INFO", logger="infogan"):
        data = load_dataset(TrainConfig())
        labelled_splits(TrainConfig())  # what training loads besides: the held-out part's two splits
    assert [r.getMessage() for r in caplog.records].count(
        "no MNIST files given: using the 5,000 embedded MNIST digits (one split)"
    ) == 1
    data.images.zero_()  # callers get their own copy
    assert load_dataset(TrainConfig()).images.any()
