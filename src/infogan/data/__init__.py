"""Data sets as uint8 image tensors held in memory, with labels when the source has them.

Batches are cut from the uint8 tensor and normalised to [-1, 1] on the training device, which is
much faster than per-item loading for images this small. Sources with one split (the 5,000 embedded
MNIST digits, an image folder) get a fixed held-out test part (`labelled_splits`): HOLDOUT_FRACTION
of the images, chosen by a permutation seeded with HOLDOUT_SEED. A CelebA folder without its partition
file is split the same way at load time: `train` is the rest, `test` the held-out part, so that a GAN
trained on it leaves real faces unseen for measuring D and Q.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from infogan.config import TrainConfig
from infogan.data import dsprites, folder, mnist
from infogan.errors import InfoGANError

HOLDOUT_FRACTION = 0.2  # share of a one-split source kept out of the domain classifier's training
HOLDOUT_SEED = 1234  # fixed, so every classifier and every evaluation holds out the same images


@dataclass
class ImageData:
    """images: (N, C, H, W) uint8; labels: (N,) int64 or None; name: where they came from; files: the
    file of each image (image folders); classes: the name of each label (class subfolders, alphabetical);
    attributes: (N, A) uint8 0/1 binary attributes named by attribute_names (CelebA's 40), for evaluation."""

    images: torch.Tensor
    labels: torch.Tensor | None
    name: str
    files: list[Path] | None = None
    classes: list[str] | None = None
    attributes: torch.Tensor | None = None
    attribute_names: list[str] | None = None

    def __len__(self) -> int:
        return self.images.shape[0]


def to_unit_range(images: torch.Tensor) -> torch.Tensor:
    """uint8 [0, 255] -> float [-1, 1], the range of G's tanh output."""
    return images.float().div_(127.5).sub_(1.0)


def from_arrays(images: np.ndarray, labels: np.ndarray | None, name: str, size: int, channels: int) -> ImageData:
    """(N, H, W) or (N, H, W, C) uint8 arrays -> ImageData, checked against the networks' input shape."""
    if images.ndim == 3:
        images = images[:, :, :, None]
    if images.shape[1:] != (size, size, channels):
        raise InfoGANError(
            f"{name} has images of shape {images.shape[1:]} (H, W, C) but the model takes "
            f"({size}, {size}, {channels}): set --image-size and --channels to match"
        )
    tensor = torch.from_numpy(np.ascontiguousarray(images.transpose(0, 3, 1, 2)))
    return ImageData(tensor, torch.from_numpy(labels) if labels is not None else None, name)


def load_dataset(config: TrainConfig, split: str | None = None, data_dir: str | None = None) -> ImageData:
    """The data set the config names, split `split` (default: the config's), from `data_dir` if given."""
    split = split or config.split
    data_dir = data_dir or config.data_dir
    size, channels = config.image_size, config.channels
    if config.dataset in ("mnist", "fashion-mnist"):
        directory = Path(data_dir) if data_dir else mnist.standard_dir(config.dataset)
        if directory is None and config.download:
            directory = mnist.download(config.dataset, mnist.standard_dirs(config.dataset)[-1])
        if directory is None and config.dataset == "mnist":
            images, labels = mnist.load_embedded_mnist()
            return from_arrays(images, labels, "mnist-5k", size, channels)
        if directory is None:
            raise InfoGANError(
                "Fashion-MNIST not found: apt-get install dataset-fashion-mnist, pass --data DIR, or add --download"
            )
        images, labels = mnist.load_idx_pair(directory, split)
        return from_arrays(images, labels, f"{config.dataset}:{split} ({directory})", size, channels)
    if config.dataset == "celeba":
        return load_celeba(Path(data_dir) if data_dir else None, split, size, channels, config.skip_bad_images)
    if config.dataset == "folder":
        if not data_dir:
            raise InfoGANError("--dataset folder needs --data DIR, the folder of images")
        root = Path(data_dir)
        listed = folder.list_images(root)
        images, labels, kept = folder.load_folder(root, size, channels, None, config.skip_bad_images, listed)
        data = from_arrays(images, labels, f"folder ({root})", size, channels)
        data.files, data.classes = kept, folder.class_names(root, listed) if labels is not None else None
        return data
    if config.dataset == "dsprites":
        return load_dsprites(data_dir, size, channels)
    raise InfoGANError(f"--dataset {config.dataset} has no loader")


def load_celeba(root: Path | None, split: str, size: int, channels: int, skip_bad: bool) -> ImageData:
    """CelebA's aligned faces of `split` with the standard face crop and, when the folder has
    list_attr_celeba.txt, their 40 attributes. Without list_eval_partition.txt the folder is one split:
    `train` is all but the fixed held-out part (holdout_order), `test` that part."""
    if root is None:
        raise InfoGANError("--dataset celeba needs --data DIR, the folder of images")
    listed = folder.celeba_files(root, split)
    name = f"celeba ({root})"
    if listed is None:
        every = folder.list_images(folder.celeba_image_dir(root))
        held, rest = holdout_order(len(every))
        listed = [every[i] for i in sorted((held if split == "test" else rest).tolist())]
        name = f"celeba ({root}, {'held-out part' if split == 'test' else 'all but the held-out part'})"
    images, _, kept = folder.load_folder(root, size, channels, folder.CELEBA_CROP, skip_bad, listed)
    data = from_arrays(images, None, name, size, channels)
    data.files = kept
    attributes = folder.celeba_attributes(root, kept)
    if attributes is not None:
        data.attributes, data.attribute_names = torch.from_numpy(attributes[0]), attributes[1]
    return data


def holdout_order(count: int) -> tuple[torch.Tensor, torch.Tensor]:
    """(held-out indices, the rest) of a one-split source of `count` images: the same for every run."""
    order = torch.randperm(count, generator=torch.Generator().manual_seed(HOLDOUT_SEED))
    held = int(count * HOLDOUT_FRACTION)
    return order[:held], order[held:]


@dataclass
class LabelledSplits:
    """Training and test images of a labelled source, and how the test part was obtained."""

    train: ImageData
    test: ImageData
    note: str


def labelled_splits(config: TrainConfig, data_dir: str | None = None, need_labels: bool = True) -> LabelledSplits:
    """The source's train and test splits; a one-split source gets its fixed held-out part as test."""
    train = load_dataset(config, "train", data_dir)
    if need_labels and train.labels is None:
        raise InfoGANError(f"{train.name} has no labels: the classifier and clustering need labelled data")
    test = load_dataset(config, "test", data_dir)
    if test.name != train.name or len(test) != len(train):
        return LabelledSplits(train, test, f"test split ({len(test)} images) of {test.name}")
    test_idx, train_idx = holdout_order(len(train))
    held = len(test_idx)
    note = f"{train.name} has one split: a fixed {held} of its {len(train)} images (seed {HOLDOUT_SEED}) held out"

    def subset(idx: torch.Tensor, part: str) -> ImageData:
        labels = train.labels[idx] if train.labels is not None else None
        return ImageData(train.images[idx], labels, f"{train.name} ({part})")

    return LabelledSplits(subset(train_idx, "train part"), subset(test_idx, "held-out part"), note)


def load_dsprites(data_dir: str | None, size: int, channels: int) -> ImageData:
    """dSprites, one split, held whole in memory as uint8 0/255 (737,280 x 64 x 64: ~3 GB), labels = shape class.

    `data_dir` may be a .npz in the original layout (the real file or `infogan dsprites --out`), else the
    folder of the procedural set's bit-packed cache (default: $INFOGAN_CACHE or ~/.cache/infogan), which
    is rendered there once (about a minute). Plain uint8 lookups keep batches as cheap as MNIST's.
    """
    path = Path(data_dir) if data_dir else None
    if path is not None and path.suffix == ".npz":
        images, classes = dsprites.read_npz(path)
        name = f"dsprites ({path})"
    else:
        sprites = dsprites.DSprites()
        name = f"dsprites ({sprites.load_cache(path)})"
        images, classes = sprites.all_images(), dsprites.index_to_classes(np.arange(dsprites.NUM_IMAGES))
    np.multiply(images, 255, out=images)  # {0, 1} -> {0, 255}, in place: no second 3 GB
    return from_arrays(images, classes[:, 0], name, size, channels)


def batches(
    data: ImageData, batch_size: int, generator: torch.Generator, rank: int = 0, world_size: int = 1
) -> list[torch.Tensor]:
    """One epoch of index batches: a seeded permutation, this rank's share, incomplete batch dropped.

    With several processes each rank takes every world_size-th index, so ranks see disjoint images,
    from equal shares, so that every rank runs the same number of steps.
    """
    order = torch.randperm(len(data), generator=generator)
    order = order[: len(order) - len(order) % world_size][rank::world_size]
    count = len(order) // batch_size
    return list(order[: count * batch_size].view(count, batch_size))
