"""The domain classifier whose feature space scores sample quality without downloaded weights.

A LeNet-like CNN is trained on the labelled training split of a data set and cached per data set;
its penultimate layer (128 units) stands in for Inception's pool features in the Frechet distance
and precision/recall, and its softmax for Inception's in the classifier score.

It trains on data.labelled_splits: sources with one split (the 5,000 embedded MNIST digits, an image
folder) get a fixed held-out test part there.
"""

from __future__ import annotations

import hashlib
import logging
import os
import shlex
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from infogan.augment import shift
from infogan.cache import CACHE_ENV as ROOT_ENV
from infogan.cache import cache_dir
from infogan.checkpoint import load_checkpoint, save_checkpoint
from infogan.config import TrainConfig
from infogan.data import ImageData, labelled_splits, mnist, to_unit_range
from infogan.errors import InfoGANError

log = logging.getLogger(__name__)

FEATURES = 128  # width of the penultimate layer, the feature space of the sample-quality metrics
CACHE_ENV = "INFOGAN_CLASSIFIERS"  # overrides the cache folder below


def cache_folder(cache: str | Path | None = None) -> tuple[Path, str]:
    """The classifier cache and the setting it comes from, for errors: `cache` (--cache),
    $INFOGAN_CLASSIFIERS, else $INFOGAN_CACHE/classifiers."""
    if cache:
        return Path(cache), "--cache"
    if os.environ.get(CACHE_ENV):
        return Path(os.environ[CACHE_ENV]), CACHE_ENV
    return cache_dir("classifiers"), ROOT_ENV


class LeNet(nn.Module):
    """conv 5x5 32 ReLU pool -> conv 5x5 64 ReLU pool -> FC 128 ReLU (features) -> dropout -> FC classes."""

    def __init__(self, channels: int, classes: int):
        super().__init__()
        self.conv = nn.Sequential(
            nn.Conv2d(channels, 32, 5, padding=2),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(2),  # (B, 32, H/2, W/2)
            nn.Conv2d(32, 64, 5, padding=2),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(2),  # (B, 64, H/4, W/4)
            nn.AdaptiveAvgPool2d(7),  # (B, 64, 7, 7) whatever the image size
        )
        self.features = nn.Sequential(nn.Linear(64 * 7 * 7, FEATURES), nn.ReLU(inplace=True))
        self.head = nn.Sequential(nn.Dropout(0.3), nn.Linear(FEATURES, classes))

    def forward(self, images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """images (B, C, H, W) in [-1, 1] -> (features (B, 128), logits (B, classes))."""
        features = self.features(self.conv(images).flatten(1))
        return features, self.head(features)


@dataclass
class Classifier:
    """A trained classifier with what it was trained on and how well it does on held-out data."""

    network: LeNet
    key: str
    test_accuracy: float
    split_note: str

    @torch.no_grad()
    def predict(self, images: torch.Tensor, batch_size: int = 500) -> tuple[torch.Tensor, torch.Tensor]:
        """uint8 (N, C, H, W) or float [-1, 1] images -> (features (N, 128), probabilities (N, classes))."""
        self.network.eval()
        device = next(self.network.parameters()).device
        features, probabilities = [], []
        for chunk in images.split(batch_size):
            chunk = to_unit_range(chunk) if chunk.dtype == torch.uint8 else chunk.float()
            feats, logits = self.network(chunk.to(device))
            features.append(feats.cpu())
            probabilities.append(logits.softmax(1).cpu())
        return torch.cat(features), torch.cat(probabilities)


def cache_key(config: TrainConfig, data_dir: str | None = None) -> str:
    """One classifier per data source and image shape: the data set's name and a hash of its folder."""
    folder = data_dir or config.data_dir
    if folder is None and config.dataset in mnist.SYSTEM_DIRS:
        folder = mnist.standard_dir(config.dataset)
    source = "embedded" if folder is None else hashlib.sha1(str(Path(folder).resolve()).encode()).hexdigest()[:8]
    return f"{config.dataset}-{source}-{config.image_size}px{config.channels}c"


def accuracy(classifier: Classifier, data: ImageData) -> float:
    _, probabilities = classifier.predict(data.images)
    return float((probabilities.argmax(1) == data.labels).double().mean())


def train_classifier(
    config: TrainConfig,
    data_dir: str | None = None,
    epochs: int = 5,
    batch_size: int = 128,
    lr: float = 1e-3,
    seed: int = 0,
    device: str | torch.device = "cpu",
    max_train: int | None = None,
) -> Classifier:
    """Train the LeNet on the labelled training split with Adam and cross-entropy; measure it on the test part.

    Random shifts of up to 2 pixels augment each batch: small data sets (the 5,000 digits) overfit without.
    max_train caps the training images (tests use it to stay fast).
    """
    splits = labelled_splits(config, data_dir)
    train = splits.train
    if max_train is not None:
        train = ImageData(train.images[:max_train], train.labels[:max_train], train.name)
    classes = int(max(train.labels.max(), splits.test.labels.max())) + 1
    torch.manual_seed(seed)
    network = LeNet(config.channels, classes).to(device)
    optimizer = torch.optim.Adam(network.parameters(), lr)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, epochs * max(1, len(train) // batch_size))
    generator = torch.Generator().manual_seed(seed)
    for epoch in range(epochs):
        network.train()
        order = torch.randperm(len(train), generator=generator)
        total, count = 0.0, 0
        for indices in order.split(batch_size):
            images = shift(to_unit_range(train.images[indices]), generator).to(device)
            _, logits = network(images)
            loss = F.cross_entropy(logits, train.labels[indices].to(device))  # -log p(y | x)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            schedule.step()
            total, count = total + loss.item() * len(indices), count + len(indices)
        log.info("classifier epoch %d/%d: training loss %.4f", epoch + 1, epochs, total / count)
    classifier = Classifier(network, cache_key(config, data_dir), 0.0, splits.note)
    classifier.test_accuracy = accuracy(classifier, splits.test)
    return classifier


def classifier_path(key: str, cache: str | Path | None = None) -> Path:
    return cache_folder(cache)[0] / f"{key}.pt"


def save_classifier(classifier: Classifier, cache: str | Path | None = None) -> Path:
    path = classifier_path(classifier.key, cache)
    network = classifier.network
    state = {
        "network": {k: v.cpu() for k, v in network.state_dict().items()},
        "channels": network.conv[0].in_channels,
        "classes": network.head[1].out_features,
        "test_accuracy": classifier.test_accuracy,
        "split_note": classifier.split_note,
        "key": classifier.key,
    }
    save_checkpoint(state, path)
    return path


CLASSIFIER_KEYS = ("network", "channels", "classes", "test_accuracy", "split_note", "key")


def classifier_command(
    config: TrainConfig, data_dir: str | None = None, cache: str | Path | None = None, retrain: bool = False
) -> str:
    """The `infogan classifier` line that trains (or, with `retrain`, replaces) the classifier
    `load_classifier` looks for, runnable as printed: every option of the cache key (the folder resolved,
    as the key is) and the cache folder."""
    words = ["infogan", "classifier", "--dataset", config.dataset]
    folder = data_dir or config.data_dir
    if folder:
        words += ["--data", str(Path(folder).resolve())]
    words += ["--image-size", str(config.image_size), "--channels", str(config.channels)]
    if cache:
        words += ["--cache", str(cache)]
    return shlex.join([*words, *(["--retrain"] if retrain else [])])


def load_classifier(config: TrainConfig, data_dir: str | None = None, cache: str | Path | None = None) -> Classifier:
    """The cached classifier of this data source; InfoGANError saying how to train it when there is none,
    or how to train it again when the cached file does not load."""
    key = cache_key(config, data_dir)
    path = classifier_path(key, cache)
    if not path.is_file():
        command = classifier_command(config, data_dir, cache)
        raise InfoGANError(f"no domain classifier for {key} in {path.parent}: train it with `{command}`")
    try:
        state = load_checkpoint(path, required=CLASSIFIER_KEYS)
        network = LeNet(state["channels"], state["classes"])
        network.load_state_dict(state["network"])
    except (InfoGANError, RuntimeError, TypeError) as error:  # RuntimeError, TypeError: weights of another network
        command = classifier_command(config, data_dir, cache, retrain=True)
        raise InfoGANError(f"{error}: train it again with `{command}`") from None
    return Classifier(network.eval(), key, state["test_accuracy"], state["split_note"])
