"""The metric registry and the context every metric reads from.

Each metric is a function of an EvalContext that returns {name: float}; it registers itself by name
with @register, and the command line offers exactly the registered names. A metric that cannot run
(no labels, no classifier, no categorical code, not a dSprites model) raises Skipped with the reason,
which the report shows instead of a number. A metric made for another kind of run (disentanglement:
dSprites models) raises DoesNotApply: left out when --metrics does not name it, skipped when it does.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import torch

from infogan.generate import generate
from infogan.latent import Latent, sample_latent
from infogan.run_folder import Run


class Skipped(Exception):
    """A metric cannot run on this run or data; the message says why and how to enable it."""


class DoesNotApply(Skipped):
    """The metric is for another kind of run: the default set leaves it out without a word."""


@dataclass(frozen=True)
class Metric:
    name: str
    help: str
    compute: Callable[[EvalContext], dict[str, float]]


METRICS: dict[str, Metric] = {}


def register(name: str, help: str) -> Callable:
    """Decorator: add a metric function to METRICS under `name`."""

    def add(compute: Callable[[EvalContext], dict[str, float]]) -> Callable:
        if name in METRICS:
            raise ValueError(f"metric {name!r} is registered twice")
        METRICS[name] = Metric(name, help, compute)
        return compute

    return add


@dataclass
class EvalContext:
    """What metrics share: the run, where the real data is, the generated samples (made once)."""

    run: Run
    data_dir: str | None = None
    split: str = "test"
    samples: int = 10_000
    seed: int = 0
    out_dir: Path | None = None  # where metrics write pictures; default: the run folder
    classifier_cache: str | None = None
    scale: float = 1.0  # disentanglement: sample sizes times this
    classifier_steps: int | None = None  # disentanglement: the shape classifier's batches (default: Budget's)
    notes: dict[str, str] = field(default_factory=dict)  # metric -> what data it used
    caveats: dict[str, str] = field(default_factory=dict)  # metric -> why its figures may not mean what they seem
    files: list[Path] = field(default_factory=list)  # pictures written

    @property
    def output_folder(self) -> Path:
        return Path(self.out_dir or self.run.directory)

    @functools.cached_property
    def latent(self) -> Latent:
        """`samples` latents drawn from the prior with the evaluation seed."""
        return sample_latent(self.run.model.spec, self.samples, torch.Generator().manual_seed(self.seed))

    @functools.cached_property
    def generated(self) -> torch.Tensor:
        """G(z, c) of self.latent in eval mode: (samples, C, H, W) in [-1, 1] on the CPU."""
        return generate(self.run.model, self.latent)
