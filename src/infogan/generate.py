"""Use a trained model: sample grids, traversals and interpolations from G, Q's reading of images.

Everything here runs the networks in eval mode (batch-norm running statistics), so an image depends
on its own latent alone, and in chunks, so memory stays bounded (`in_eval_chunks`). Loading a run
folder is run_folder.load_run's.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch

from infogan.data import to_unit_range
from infogan.errors import InfoGANError
from infogan.latent import (
    Latent,
    LatentSpec,
    band_labels,
    category_rows_latent,
    code_latent,
    sample_latent,
    traversal_latent,
)
from infogan.networks import InfoGAN


@torch.no_grad()
def in_eval_chunks(
    model: InfoGAN, function: Callable[[torch.Tensor], Any], inputs: torch.Tensor, batch_size: int = 500
) -> list:
    """`function` of each chunk of `inputs`, moved to the model's device, with the model in eval mode;
    the model's mode is restored after."""
    was_training = model.training
    model.eval()
    device = next(model.parameters()).device
    try:
        return [function(chunk.to(device)) for chunk in inputs.split(batch_size)]
    finally:
        model.train(was_training)


def generate(model: InfoGAN, latent: Latent) -> torch.Tensor:
    """G(z, c) in eval mode: (N, C, H, W) images in [-1, 1] on the CPU."""
    return generate_from_inputs(model, latent.generator_input(model.spec))


def generate_from_inputs(model: InfoGAN, inputs: torch.Tensor, batch_size: int = 500) -> torch.Tensor:
    """G on ready-made (N, input_dim) input vectors, in eval mode, in chunks; images on the CPU."""
    return torch.cat(in_eval_chunks(model, lambda chunk: model.generator(chunk).float().cpu(), inputs, batch_size))


def sample_grid(model: InfoGAN, seed: int = 0, columns: int = 10) -> tuple[torch.Tensor, int]:
    """Samples with one categorical code fixed per row, every code in turn, in bands of at least
    latent.MIN_ROWS rows (sample_grid_rows names them): (images, columns)."""
    return generate(model, category_rows_latent(model.spec, columns, torch.Generator().manual_seed(seed))), columns


def sample_grid_rows(spec: LatentSpec) -> list[str] | None:
    """What each row of sample_grid fixes ("cat1 = 0"); None without categorical codes."""
    return band_labels(spec, range(len(spec.categorical)))


def traversal_rows(spec: LatentSpec) -> list[str] | None:
    """What each row of a traversal fixes: the first categorical code's value; None without one."""
    return band_labels(spec, [0])


def code_images(
    model: InfoGAN, seed: int, categorical: list[int], continuous: list[float], vary: int | None = None
) -> tuple[torch.Tensor, int]:
    """G at hand-set codes, noise from `seed`; with `vary`, every value of that categorical code in a row:
    (images, columns). `infogan sample --cat/--cont` and the explorer both draw through here."""
    latent = code_latent(model.spec, seed, categorical, continuous, vary)
    return generate(model, latent), len(latent)


def traversal(model: InfoGAN, code: int, seed: int = 0, steps: int = 10) -> tuple[torch.Tensor, int]:
    """Continuous code `code` from -1 to 1 along each row (traversal_rows names the rows): (images, columns)."""
    if not 0 <= code < model.spec.continuous:
        raise InfoGANError(f"--code {code} does not exist: the model has {model.spec.continuous} continuous code(s)")
    return generate(model, traversal_latent(model.spec, code, steps, torch.Generator().manual_seed(seed))), steps


def interpolation(model: InfoGAN, seed: int = 0, pairs: int = 8, steps: int = 10) -> tuple[torch.Tensor, int]:
    """Each row goes linearly in G's input space from one generated image to another: (images, columns)."""
    if steps < 2:
        raise InfoGANError(f"--steps must be at least 2 (got {steps})")
    generator = torch.Generator().manual_seed(seed)
    start = sample_latent(model.spec, pairs, generator).generator_input(model.spec)  # (pairs, D)
    end = sample_latent(model.spec, pairs, generator).generator_input(model.spec)
    weights = torch.linspace(0, 1, steps).view(1, steps, 1)
    inputs = (start[:, None] * (1 - weights) + end[:, None] * weights).flatten(0, 1)  # (pairs * steps, D)
    return generate_from_inputs(model, inputs), steps


def q_outputs(model: InfoGAN, images: torch.Tensor, batch_size: int = 500) -> tuple:
    """Q(c | x) of images (N, C, H, W), uint8 or float in [-1, 1], in eval mode, float32 on the CPU:
    (a list of (N, K_i) logits per categorical code, (N, n_cont) means, (N, n_cont) log stds or None)."""

    def read(chunk: torch.Tensor) -> tuple:
        logits, means, log_stds = model.q_head(
            model.trunk(to_unit_range(chunk) if chunk.dtype == torch.uint8 else chunk)
        )
        return (
            [x.float().cpu() for x in logits],
            means.float().cpu(),
            None if log_stds is None else log_stds.float().cpu(),
        )

    parts = in_eval_chunks(model, read, images, batch_size)  # per chunk: (logits, means, log_stds)
    logits = [torch.cat([part[0][i] for part in parts]) for i in range(len(model.spec.categorical))]
    means = torch.cat([part[1] for part in parts])
    log_stds = None if parts[0][2] is None else torch.cat([part[2] for part in parts])
    return logits, means, log_stds


def encode(model: InfoGAN, images: torch.Tensor, batch_size: int = 500) -> tuple[list[torch.Tensor], torch.Tensor]:
    """Q's reading of real uint8 images (N, C, H, W) in eval mode:
    (a list of (N, K_i) logits per categorical code, (N, n_cont) continuous means)."""
    logits, means, _ = q_outputs(model, images, batch_size)
    return logits, means
