"""What training records as it goes: metrics.jsonl lines, mirrored to TensorBoard when it is installed,
the clustering score of each categorical code (on the images `infogan evaluate` scores), the mean losses
of each logging window, and the progress shown (a bar on a terminal, log lines elsewhere).

TensorBoard is optional (not a dependency): with the `tensorboard` package importable, every
numeric field of every record is also written under RUN/tensorboard as "<event>/<field>".
"""

from __future__ import annotations

import contextlib
import datetime
import importlib.util
import logging
import math
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import torch
from tqdm import tqdm

from infogan.config import TrainConfig
from infogan.data import ImageData
from infogan.distributed import Processes
from infogan.errors import InfoGANError
from infogan.files import JsonLines
from infogan.generate import encode
from infogan.metrics.clustering import clustering_data, clustering_scores
from infogan.metrics.registry import Skipped
from infogan.networks import InfoGAN
from infogan.run_folder import nonfinite_advice

log = logging.getLogger(__name__)


def scored_data(config: TrainConfig, trained_on: str) -> ImageData | None:
    """The labelled images training scores the codes on, which `infogan evaluate` scores by default
    (metrics.clustering.clustering_data); None, said once, without labels or categorical codes.

    For a source with one split (an image folder, the embedded digits) these are the images the run
    trains on, without their labels: nothing is held out, and the log says so."""
    if not config.categorical:
        return None
    try:
        data = clustering_data(config)
    except Skipped as reason:
        log.info("no clustering score during training: %s", reason)
        return None
    seen = (
        "the images it trains on (without labels)" if data.name.endswith(trained_on) else "images it does not train on"
    )
    log.info("clustering scores: %d images of %s, %s, as `infogan evaluate` scores them", len(data), data.name, seen)
    return data


class TrainingLog:
    """Appends records to RUN/metrics.jsonl (and TensorBoard); scores the codes' clustering on request.

    A resumed run's log that a kill left ending mid-line is repaired first (files.JsonLines)."""

    def __init__(self, run: Path, config: TrainConfig, trained_on: str):
        self.file = JsonLines(run / "metrics.jsonl")  # kept open for the whole run
        self.scored = scored_data(config, trained_on)
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
        """Write and return an "eval" record: ACC (beside the majority-class rate), NMI, ARI of each
        categorical code, as `infogan evaluate`'s clustering metric computes them.

        Does nothing (returns None) when the data has no labels or the model no categorical code.
        """
        if self.scored is None:
            return None
        logits, _ = encode(model, self.scored.images)
        labels = self.scored.labels.numpy()
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


@contextlib.contextmanager
def shown_progress() -> Iterator[None]:
    """While training, infogan's INFO lines (what it trains, the progress lines, where the run went) go
    to stderr when nothing else would show them: a Python script or notebook that calls train() without
    configuring logging would otherwise see no progress at all. Configured logging is left alone."""
    logger = logging.getLogger("infogan")
    if logger.hasHandlers():  # the command line's, or the program's own
        yield
        return
    handler, level = logging.StreamHandler(), logger.level
    handler.setFormatter(logging.Formatter("%(message)s"))
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        yield
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)


def optional_terms(config: TrainConfig) -> tuple[str, ...]:
    """Loss terms that train_step returns only when their option is on: the contrastive regulariser's
    cross-entropy (0 before --cr-start) and the real-image clustering term."""
    return tuple(
        name
        for name, on in (("loss_cr", config.cr_weight > 0), ("loss_real_cluster", config.real_cluster_weight > 0))
        if on
    )


class LossWindow:
    """Running sums of the losses over a logging window, kept on the device (no sync per step)."""

    def __init__(self, names: list[str], entropies: list[float], device: torch.device, terms: tuple[str, ...]):
        self.names, self.entropies, self.device, self.terms = names, entropies, device, terms
        self.reset()

    def reset(self) -> None:
        scalars = ("loss_d", "loss_g", *self.terms)
        zeros = {name: torch.zeros((), device=self.device) for name in scalars}
        self.sums = {"nll": torch.zeros(len(self.names), device=self.device), **zeros}
        self.steps, self.skipped, self.start = 0, 0, time.perf_counter()

    def add(self, losses: dict[str, torch.Tensor]) -> None:
        """One step's losses; a step --skip-nonfinite skipped only counts, keeping NaNs out of the means."""
        if int(losses.pop("skipped")):
            self.skipped += 1
            return
        for key, value in losses.items():
            self.sums[key] += value
        self.steps += 1

    def summarise(self, processes: Processes, run: Path) -> dict[str, float]:
        """Mean losses of the window over its steps and all processes, and L_I = H(c) - NLL per code; a
        non-finite loss (or a window whose every step --skip-nonfinite skipped) stops the run before
        anything is saved."""
        scalars = [name for name in self.sums if name != "nll"]  # loss_d, loss_g, then the optional terms
        sums = torch.cat([*(self.sums[name].view(1) for name in scalars), self.sums["nll"]]).float()
        totals = [sums, torch.tensor([self.steps, self.skipped], dtype=torch.float32, device=sums.device)]
        processes.average(totals)
        means = (totals[0] / totals[1][0]).tolist()  # mean sums / mean count: 0 / 0 when every step was skipped
        out = dict(zip(scalars, means, strict=False))
        for name, value, entropy in zip(self.names, means[len(scalars) :], self.entropies, strict=True):
            out[f"nll_{name}"] = value
            out[f"mi_{name}"] = entropy - value
        if self.skipped:  # every process skips the same steps
            out["skipped_steps"] = self.skipped
            log.warning("skipped %d step(s) with non-finite losses or gradients", out["skipped_steps"])
        if self.skipped and not self.steps:  # skipping more would not mend what makes every step fail
            raise InfoGANError(
                f"--skip-nonfinite skipped every one of the last {self.skipped} step(s), their losses or gradients "
                f"being non-finite: {nonfinite_advice(run, skipping=True)}"
            )
        if not all(math.isfinite(v) for v in out.values()):
            raise InfoGANError(f"a loss became non-finite ({out}): {nonfinite_advice(run)}")
        return out


class Progress:
    """tqdm's bar on a terminal; elsewhere (a file, a pipe), where tqdm stays silent, one log line per
    metrics-log window: step, losses, images/s and the time left.

    The time left is the steps left times the step's own time, averaged over the session's steps, then
    exponentially over the last twentieth of the run once there are more (a machine whose load changes
    is followed within that), times one plus the share the work between steps (snapshots, log lines:
    under config.SNAPSHOT_SHARE) has added so far. Taken from the last log window's speed instead, the
    estimate jumped from 46 to 9 to 37 minutes within 250 steps whenever a window held a snapshot
    (benchmarks/time_left.py, docs/results/own-images.md)."""

    def __init__(self, total: int, initial: int, main: bool):
        self.total = total
        self.bar = tqdm(  # smoothing 0: the bar's own estimate from the mean rate too
            total=total,
            initial=initial,
            desc="train",
            unit="step",
            dynamic_ncols=True,
            smoothing=0,
            disable=None if main else True,
        )
        self.lines = main and self.bar.disable
        self.horizon = max(20, total // 20)  # steps the average of the step time reaches back
        self.step_seconds, self.steps, self.all_steps_seconds = 0.0, 0, 0.0
        self.started = time.perf_counter()

    def update(self, seconds: float) -> None:
        """One step taken, in `seconds` (the step itself): the mean so far, then a running average."""
        self.steps += 1
        self.step_seconds += (seconds - self.step_seconds) / min(self.steps, self.horizon)
        self.all_steps_seconds += seconds
        self.bar.update()

    def seconds_left(self, step: int) -> float:
        """The steps left after `step` at the averaged time per step, with the session's share of other work."""
        between = max(0.0, (time.perf_counter() - self.started) / self.all_steps_seconds - 1) if self.steps else 0.0
        return (self.total - step) * self.step_seconds * (1 + between)

    def show(self, record: dict) -> None:
        """A "step" record of metrics.jsonl on the bar, or as a log line."""
        losses = {key: value for key, value in record.items() if key.startswith("loss_")}
        if not self.lines:
            self.bar.set_postfix({key: f"{value:.3f}" for key, value in losses.items()})
            return
        left = datetime.timedelta(seconds=round(self.seconds_left(record["step"])))
        shown = ", ".join(f"{key} {value:.3f}" for key, value in losses.items())
        speed = record["images_per_s"]
        log.info("step %d/%d: %s; %.0f images/s, %s left", record["step"], self.total, shown, speed, left)

    def close(self) -> None:
        self.bar.close()
