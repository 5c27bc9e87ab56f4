"""What training records as it goes: metrics.jsonl lines, mirrored to TensorBoard when it is installed,
and the clustering of a fixed held-out labelled subset by each categorical code.

TensorBoard is optional (not a dependency): with the `tensorboard` package importable, every
numeric field of every record is also written under RUN/tensorboard as "<event>/<field>".
"""

from __future__ import annotations

import importlib.util
import logging
from pathlib import Path
from typing import Any

import torch

from infogan.config import TrainConfig
from infogan.data import ImageData, labelled_splits
from infogan.errors import InfoGANError
from infogan.files import JsonLines
from infogan.generate import encode
from infogan.metrics.clustering import clustering_scores
from infogan.networks import InfoGAN

log = logging.getLogger(__name__)

HELD_OUT_IMAGES = 1000  # labelled images scored during training: ACC to about +-1.5% at one std
HELD_OUT_SEED = 99


def held_out_subset(config: TrainConfig, count: int = HELD_OUT_IMAGES) -> ImageData | None:
    """A fixed labelled subset of the test split (or of a one-split source's held-out part); None without labels."""
    if not config.categorical:
        return None
    try:
        test = labelled_splits(config).test
    except InfoGANError as error:
        log.info("no held-out clustering during training: %s", error)
        return None
    pick = torch.randperm(len(test), generator=torch.Generator().manual_seed(HELD_OUT_SEED))[:count]
    return ImageData(test.images[pick], test.labels[pick], f"{count} images of {test.name}")


class TrainingLog:
    """Appends records to RUN/metrics.jsonl (and TensorBoard); scores the held-out subset on request.

    A resumed run's log that a kill left ending mid-line is repaired first (files.JsonLines)."""

    def __init__(self, run: Path, config: TrainConfig):
        self.file = JsonLines(run / "metrics.jsonl")  # kept open for the whole run
        self.held_out = held_out_subset(config)
        self.tensorboard = None
        if importlib.util.find_spec("tensorboard") is not None:
            from torch.utils.tensorboard import SummaryWriter

            self.tensorboard = SummaryWriter(str(run / "tensorboard"))

    def write(self, record: dict[str, Any]) -> None:
        self.file.write(record)
        if self.tensorboard is not None:
            for key, value in record.items():
                if isinstance(value, (int, float)) and key not in ("step", "epoch"):
                    self.tensorboard.add_scalar(f"{record['event']}/{key}", value, record["step"])

    def write_clustering(self, model: InfoGAN, step: int, epoch: float) -> dict[str, Any] | None:
        """Write and return an "eval" record: ACC, NMI, ARI of each categorical code on the held-out subset.

        Does nothing (returns None) when the data has no labels or the model no categorical code.
        """
        if self.held_out is None:
            return None
        logits, _ = encode(model, self.held_out.images)
        labels = self.held_out.labels.numpy()
        record: dict[str, Any] = {"event": "eval", "step": step, "epoch": epoch}
        for name, code_logits in zip(model.spec.code_names(), logits, strict=False):  # categorical codes first
            scores = clustering_scores(labels, code_logits.argmax(1).numpy())
            record.update({f"{name}_{key}": value for key, value in scores.items()})
        self.write(record)
        return record

    def close(self) -> None:
        self.file.close()
        if self.tensorboard is not None:
            self.tensorboard.close()
