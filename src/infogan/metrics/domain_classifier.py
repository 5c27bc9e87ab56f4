"""The domain classifier whose feature space scores sample quality without downloaded weights.

A LeNet-like CNN is trained on the labelled training split of a data set and cached per data set;
its penultimate layer (128 units) stands in for Inception's pool features in the Frechet distance
and precision/recall, and its softmax for Inception's in the classifier score.

It trains on data.labelled_splits: sources with one split (the 5,000 embedded MNIST digits, an image
folder) get a fixed held-out test part there. Faces have no classes: on CelebA the same network learns
the 40 binary attributes instead (an attribute classifier, one sigmoid each), is measured by its mean
AUC on the held-out faces, and its features score face samples; the metric `attributes` reads its
probabilities.
"""

from __future__ import annotations

import hashlib
import logging
import os
import shlex
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from infogan.augment import shift
from infogan.cache import CACHE_ENV as ROOT_ENV
from infogan.cache import cache_dir
from infogan.checkpoint import load_checkpoint, save_checkpoint
from infogan.config import TrainConfig
from infogan.data import ImageData, labelled_splits, load_dataset, mnist, to_unit_range
from infogan.errors import InfoGANError

log = logging.getLogger(__name__)

FEATURES = 128  # width of the penultimate layer, the feature space of the sample-quality metrics
CACHE_ENV = "INFOGAN_CLASSIFIERS"  # overrides the cache folder below
CLASS_EPOCHS, ATTRIBUTE_EPOCHS = 5, 15  # default passes over the training split


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
    """A trained classifier with what it was trained on and how well it does on held-out data: test_score
    is the accuracy of a class classifier, the mean AUC over the attributes of an attribute classifier."""

    network: LeNet
    key: str
    test_score: float
    split_note: str
    attributes: list[str] | None = None  # the attributes' names; None: a class classifier
    attribute_auc: list[float] | None = None  # each attribute's AUC on the held-out faces (test_score: their mean)

    @property
    def score_name(self) -> str:
        return "test accuracy" if self.attributes is None else "held-out mean AUC over the attributes"

    @torch.no_grad()
    def predict(self, images: torch.Tensor, batch_size: int = 500) -> tuple[torch.Tensor, torch.Tensor]:
        """uint8 (N, C, H, W) or float [-1, 1] images -> (features (N, 128), probabilities (N, classes):
        a softmax over the classes, or each attribute's own probability)."""
        self.network.eval()
        device = next(self.network.parameters()).device
        features, probabilities = [], []
        for chunk in images.split(batch_size):
            chunk = to_unit_range(chunk) if chunk.dtype == torch.uint8 else chunk.float()
            feats, logits = self.network(chunk.to(device))
            features.append(feats.cpu())
            probabilities.append((logits.softmax(1) if self.attributes is None else logits.sigmoid()).cpu())
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


def auc(scores: np.ndarray, targets: np.ndarray) -> np.ndarray:
    """Area under the ROC curve of each column of (N, A) scores for the matching column of (N, A) 0/1 targets."""
    from scipy.stats import rankdata

    return np.diagonal(rank_auc(rankdata(scores, axis=0), targets)).copy()


def rank_auc(ranks: np.ndarray, targets: np.ndarray) -> np.ndarray:
    """(K, A) AUC of every score column for every target column, from the scores' ranks (N, K) (ties at
    their average rank) and (N, A) 0/1 targets, by the rank-sum (Mann-Whitney) formula; 0.5 where a
    target column has one class only. Ranks are computed once, so shuffled targets cost a product."""
    positives = targets.sum(0)
    negatives = len(targets) - positives
    area = (ranks.T @ targets - positives * (positives + 1) / 2) / np.maximum(positives * negatives, 1)
    return np.where((positives > 0) & (negatives > 0), area, 0.5)


def train_classifier(
    config: TrainConfig,
    data_dir: str | None = None,
    epochs: int | None = None,
    batch_size: int = 128,
    lr: float = 1e-3,
    seed: int = 0,
    device: str | torch.device = "cpu",
    max_train: int | None = None,
) -> Classifier:
    """Train the LeNet on the labelled training split with Adam and cross-entropy; measure it on the test part.
    On CelebA it learns the 40 attributes instead, with binary cross-entropy, and is measured by its mean
    AUC on the held-out faces.

    Random shifts of up to 2 pixels augment each batch: small data sets (the 5,000 digits) overfit without;
    faces are also flipped left to right, which changes none of their attributes.
    max_train caps the training images (tests use it to stay fast).
    """
    if config.dataset == "celeba":
        train, test = load_dataset(config, "train", data_dir), load_dataset(config, "test", data_dir)
        if train.attributes is None or test.attributes is None:
            raise InfoGANError(f"{train.name} has no list_attr_celeba.txt: the attribute classifier needs it")
        targets, attributes, note = train.attributes.float(), train.attribute_names, f"{len(test)} faces of {test.name}"
    else:
        splits = labelled_splits(config, data_dir)
        train, test, note = splits.train, splits.test, splits.note
        targets, attributes = train.labels, None
    if max_train is not None:
        train, targets = ImageData(train.images[:max_train], None, train.name), targets[:max_train]
    # 40 attributes from 8,000 faces need longer than 10 classes: held-out mean AUC 0.77 after 5 epochs, 0.84 after 15
    epochs = epochs or (ATTRIBUTE_EPOCHS if attributes else CLASS_EPOCHS)
    outputs = len(attributes) if attributes else int(max(train.labels.max(), test.labels.max())) + 1
    loss_of = F.cross_entropy if attributes is None else F.binary_cross_entropy_with_logits  # -log p(y | x)
    torch.manual_seed(seed)
    network = LeNet(config.channels, outputs).to(device)
    optimizer = torch.optim.Adam(network.parameters(), lr)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, epochs * max(1, len(train) // batch_size))
    generator = torch.Generator().manual_seed(seed)
    for epoch in range(epochs):
        network.train()
        order = torch.randperm(len(train), generator=generator)
        total, count = 0.0, 0
        for indices in order.split(batch_size):
            images = shift(to_unit_range(train.images[indices]), generator)
            if attributes is not None:
                flip = torch.rand(len(images), generator=generator) < 0.5
                images[flip] = images[flip].flip(3)
            _, logits = network(images.to(device))
            loss = loss_of(logits, targets[indices].to(device))
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            schedule.step()
            total, count = total + loss.item() * len(indices), count + len(indices)
        log.info("classifier epoch %d/%d: training loss %.4f", epoch + 1, epochs, total / count)
    classifier = Classifier(network, cache_key(config, data_dir), 0.0, note, attributes)
    if attributes is None:
        classifier.test_score = accuracy(classifier, test)
    else:
        _, probabilities = classifier.predict(test.images)
        classifier.attribute_auc = auc(probabilities.numpy(), test.attributes.numpy()).tolist()
        classifier.test_score = float(np.mean(classifier.attribute_auc))
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
        "test_accuracy": classifier.test_score,  # the name of older files, whatever the score
        "split_note": classifier.split_note,
        "key": classifier.key,
        "attributes": classifier.attributes or [],
        "attribute_auc": classifier.attribute_auc or [],
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
    attributes = state.get("attributes") or None  # files written before attribute classifiers: a class classifier
    attribute_auc = state.get("attribute_auc") or None
    return Classifier(network.eval(), key, state["test_accuracy"], state["split_note"], attributes, attribute_auc)
