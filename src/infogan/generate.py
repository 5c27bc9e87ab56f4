"""Use a trained model: load a run, generate sample grids, traversals and interpolations, encode images.

Everything here runs the networks in eval mode (batch-norm running statistics), so an image depends
on its own latent alone.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch

from infogan.checkpoint import load_checkpoint
from infogan.config import TrainConfig
from infogan.data import to_unit_range
from infogan.errors import InfoGANError
from infogan.latent import Latent, category_rows_latent, code_latent, sample_latent, traversal_latent
from infogan.networks import InfoGAN


@dataclass
class Run:
    """A trained model with the config it was trained with."""

    config: TrainConfig
    model: InfoGAN
    directory: Path
    step: int

    @property
    def device(self) -> torch.device:
        return next(self.model.parameters()).device


def build_model(config: TrainConfig) -> InfoGAN:
    """The networks a config describes, freshly initialised."""
    return InfoGAN(
        config.latent,
        config.image_size,
        config.channels,
        config.learn_std,
        config.spectral_norm,
        config.network,
        contrastive=config.cr_weight > 0,
        d_batch_norm=config.d_batch_norm,
    )


def resolve_device(name: str) -> torch.device:
    """auto -> CUDA when present, else CPU; asking for CUDA without one is an error."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise InfoGANError("--device cuda asked for, but PyTorch sees no CUDA device: use --device cpu")
    return torch.device(name)


def run_folder(directory: str | Path) -> Path:
    """The run folder as a Path; InfoGANError when it does not exist (checked first by every command)."""
    directory = Path(directory)
    if not directory.is_dir():
        raise InfoGANError(f"run folder {directory} does not exist")
    return directory


def load_run(directory: str | Path, device: str = "auto", checkpoint: str = "latest.pt") -> Run:
    """Load a run folder's checkpoint (by default checkpoints/latest.pt; e.g. step-00005000.pt) and its config."""
    directory = run_folder(directory)
    state = load_checkpoint(directory / "checkpoints" / checkpoint)
    config = TrainConfig.from_dict(state["config"])
    model = build_model(config)
    try:
        model.load_state_dict(state["model"])
    except RuntimeError as error:
        raise InfoGANError(f"checkpoint of {directory} does not fit the model ({str(error).splitlines()[0]})") from None
    # channels-last convolutions: the same math, 1.5x faster inference on the CPU
    model = model.to(resolve_device(device), memory_format=torch.channels_last)
    return Run(config, model.eval(), directory, state["step"])


@torch.no_grad()
def recalibrate_batch_norm(model: InfoGAN, batch_size: int, seed: int = 0, batches: int = 50) -> None:
    """Recompute G's batch-norm population statistics as exact means over fresh latent batches.

    Training runs G on batch statistics; the exponential running averages lag behind weights that
    move at lr 1e-3, and eval-mode samples drawn with them were noise where train-mode samples were
    clean digits. Training never reads these buffers, so this changes no optimisation step.
    """
    layers = [m for m in model.generator.modules() if isinstance(m, torch.nn.modules.batchnorm._BatchNorm)]
    momenta = [layer.momentum for layer in layers]
    for layer in layers:
        layer.reset_running_stats()
        layer.momentum = None  # cumulative average
    was_training = model.training
    model.generator.train()
    generator = torch.Generator().manual_seed(seed)
    device = next(model.parameters()).device
    for _ in range(batches):
        model.generator(sample_latent(model.spec, batch_size, generator).generator_input(model.spec).to(device))
    for layer, momentum in zip(layers, momenta, strict=True):
        layer.momentum = momentum
    model.train(was_training)


def generate(model: InfoGAN, latent: Latent) -> torch.Tensor:
    """G(z, c) in eval mode: (N, C, H, W) images in [-1, 1] on the CPU."""
    return generate_from_inputs(model, latent.generator_input(model.spec))


@torch.no_grad()
def generate_from_inputs(model: InfoGAN, inputs: torch.Tensor, batch_size: int = 500) -> torch.Tensor:
    """G on ready-made (N, input_dim) input vectors, in eval mode, in chunks; images on the CPU."""
    was_training = model.training
    model.eval()
    device = next(model.parameters()).device
    images = torch.cat([model.generator(chunk.to(device)).float().cpu() for chunk in inputs.split(batch_size)])
    model.train(was_training)
    return images


def sample_grid(model: InfoGAN, seed: int = 0, columns: int = 10) -> tuple[torch.Tensor, int]:
    """Samples with the first categorical code fixed per row: (images, columns)."""
    return generate(model, category_rows_latent(model.spec, columns, torch.Generator().manual_seed(seed))), columns


def code_images(
    model: InfoGAN, seed: int, categorical: list[int], continuous: list[float], vary: int | None = None
) -> tuple[torch.Tensor, int]:
    """G at hand-set codes, noise from `seed`; with `vary`, every value of that categorical code in a row:
    (images, columns). `infogan sample --cat/--cont` and the explorer both draw through here."""
    latent = code_latent(model.spec, seed, categorical, continuous, vary)
    return generate(model, latent), len(latent)


def traversal(model: InfoGAN, code: int, seed: int = 0, steps: int = 10) -> tuple[torch.Tensor, int]:
    """Continuous code `code` from -1 to 1 along each row: (images, columns)."""
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


@torch.no_grad()
def encode(model: InfoGAN, images: torch.Tensor, batch_size: int = 500) -> tuple[list[torch.Tensor], torch.Tensor]:
    """Q's reading of real uint8 images (N, C, H, W) in eval mode:
    (a list of (N, K_i) logits per categorical code, (N, n_cont) continuous means)."""
    was_training = model.training
    model.eval()
    device = next(model.parameters()).device
    chunks = []
    for chunk in images.split(batch_size):
        logits, means, _ = model.q_head(model.trunk(to_unit_range(chunk.to(device))))
        chunks.append((torch.cat([means, *logits], dim=1)).float().cpu())  # (n, n_cont + sum K)
    model.train(was_training)
    out = torch.cat(chunks)
    means, logits = out[:, : model.spec.continuous], out[:, model.spec.continuous :]
    return list(logits.split(list(model.spec.categorical), dim=1)), means
