"""A run folder: what in it is infogan's, refusing to write over a run, `--overwrite`, what a run's
checkpoint holds, resuming from it, and loading the trained model for inference.

`infogan train` writes config.json (the resolved TrainConfig), metrics.jsonl, summary.json,
checkpoints/ (latest.pt and the kept step-NNNNNNNN.pt, in checkpoint.py's file format), samples/ and
traversals/ (one picture per epoch).

A folder holds a run when it has a config.json or any file named as infogan names its files; an
`--overwrite` removes those files alone, so a user's own files in the folder (checkpoints/resnet50.ckpt,
samples/labels.csv) stay. While training, RUN/.lock keeps other processes out (lock.py).
"""

from __future__ import annotations

import contextlib
import fnmatch
import logging
import shlex
from dataclasses import dataclass
from pathlib import Path

import torch

from infogan.checkpoint import LATEST, load_checkpoint, recovery_hint, save_rotating, saved_steps
from infogan.config import TrainConfig, check_resumable
from infogan.errors import InfoGANError, first_line
from infogan.files import copy_file
from infogan.networks import InfoGAN, build_model, resolve_device

log = logging.getLogger(__name__)

# what `infogan train` writes at the top of a run folder: other commands' --out may not lie in these
TRAINING_FILES = ("config.json", "metrics.jsonl", "summary.json", "checkpoints", "samples", "traversals", "tensorboard")
# infogan's own names, by folder: what train writes, and the default outputs of the other commands
OWN_FILES = {
    ".": (
        "config.json",
        "metrics.jsonl",
        "summary.json",
        "curves.png",
        "sample.png",
        "interpolate.png",
        "traverse-cont[0-9]*.png",
        "codes.csv",
        "evaluation.json",
        "confusion-cat[0-9]*.png",
        "members-cat[0-9]*.png",
    ),
    "checkpoints": (LATEST, "step-[0-9]*.pt", "epoch-[0-9]*.pt"),
    "samples": ("epoch-[0-9]*.png",),
    "traversals": ("epoch-[0-9]*-cont[0-9]*.png",),
    "tensorboard": ("events.out.tfevents.*",),
}


def is_own(name: str, patterns: tuple[str, ...]) -> bool:
    """Whether a file name is one of `patterns` or a temporary file of one (NAME.part, NAME.PID.part)."""
    return any(fnmatch.fnmatchcase(name, p) or fnmatch.fnmatchcase(name, f"{p}*.part") for p in patterns)


def own_files(run: Path) -> list[Path]:
    """The files of `run` that infogan wrote (by name), in its own folders only."""
    found = []
    for folder, patterns in OWN_FILES.items():
        directory = run / folder
        if directory.is_dir():
            found += [p for p in sorted(directory.iterdir()) if p.is_file() and is_own(p.name, patterns)]
    return found


def check_run_folder(run: Path, resume: bool, overwrite: bool) -> None:
    """Refuse, before anything is loaded or written, to write over another run unless asked."""
    if resume:
        latest = run / "checkpoints" / LATEST
        if not latest.is_file():
            hint = recovery_hint(latest, "resume from it")
            raise InfoGANError(f"{run} has no checkpoints/{LATEST} to resume from" + (f": {hint}" if hint else ""))
        return
    if own_files(run) and not overwrite:
        raise InfoGANError(f"{run} already holds a run: pass --resume {run} to continue it, or --overwrite")


def clear_run_folder(run: Path) -> None:
    """Remove infogan's own files from the folder of a run being overwritten, and only those; its
    folders go too once nothing else is left in them."""
    for path in own_files(run):
        path.unlink()
    for folder in OWN_FILES:
        if folder != ".":
            with contextlib.suppress(OSError):  # missing, or it holds the user's files
                (run / folder).rmdir()


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


def existing_run(directory: str | Path) -> Path:
    """The run folder as a Path; InfoGANError when it does not exist (checked first by every command)."""
    directory = Path(directory)
    if not directory.is_dir():
        raise InfoGANError(f"run folder {directory} does not exist")
    return directory


def load_run(directory: str | Path, device: str = "auto", checkpoint: str = LATEST) -> Run:
    """Load a run folder's checkpoint (by default checkpoints/latest.pt; e.g. step-00005000.pt) and its
    config, in eval mode."""
    directory = existing_run(directory)
    state = load_checkpoint(directory / "checkpoints" / checkpoint)
    config = TrainConfig.from_dict(state["config"])
    model = build_model(config)
    try:
        model.load_state_dict(state["model"])
    except RuntimeError as error:
        raise InfoGANError(f"checkpoint of {directory} does not fit the model ({first_line(error)})") from None
    # channels-last convolutions: the same math, 1.5x faster inference on the CPU
    model = model.to(resolve_device(device), memory_format=torch.channels_last)
    return Run(config, model.eval(), directory, state["step"])


@dataclass
class Position:
    """Where training stands: steps taken, epochs finished, batches into this epoch, and the state the
    batch-order generator had when this epoch began (a resume draws the epoch's permutation again from it)."""

    step: int
    epoch: int
    batch_in_epoch: int
    epoch_rng: torch.Tensor


def checkpoint_state(
    config: TrainConfig,
    model: InfoGAN,
    optimizers: dict[str, torch.optim.Optimizer],
    position: Position,
    latents: list[torch.Tensor],
    data_images: int,
) -> dict:
    """What a run's checkpoint holds: checkpoint.KEYS, and the size of the data set the position counts
    batches of. `latents`: every process's latent generator state, by rank; torch's global generator
    (the contrastive regulariser's draws) is this process's."""
    return {
        "config": config.to_dict(),
        "model": model.state_dict(),
        "optimizers": {name: optimizer.state_dict() for name, optimizer in optimizers.items()},
        "step": position.step,
        "epoch": position.epoch,
        "batch_in_epoch": position.batch_in_epoch,
        "data_images": data_images,
        "rng": {"torch": torch.get_rng_state(), "latent": latents, "data_epoch": position.epoch_rng},
    }


def save_run_checkpoint(run: Path, state: dict, config: TrainConfig) -> Path:
    """checkpoints/step-NNNNNNNN.pt and latest.pt, the newest --keep-checkpoints kept, and at an epoch's
    end epoch-NNNN.pt with --keep-epoch-checkpoints; returns the step file."""
    saved = save_rotating(state, run / "checkpoints", config.keep_checkpoints)
    if config.keep_epoch_checkpoints and state["batch_in_epoch"] == 0:
        copy_file(saved, run / "checkpoints" / f"epoch-{state['epoch']:04d}.pt")
    return saved


def restore(path: Path, model: InfoGAN, optimizers: dict[str, torch.optim.Optimizer], config: TrainConfig) -> dict:
    """Load checkpoint `path` into the model and optimizers; returns the checkpoint.

    The optimizers keep their moments but not their hyperparameters: each keeps the learning rate and
    betas it was built with from `config`, so a resume can, say, lower a learning rate after a run diverged.
    """
    state = load_checkpoint(path)
    check_resumable(TrainConfig.from_dict(state["config"]), config)
    chosen = {name: [(g["lr"], g["betas"]) for g in opt.param_groups] for name, opt in optimizers.items()}
    try:
        model.load_state_dict(state["model"])
        for name, optimizer in optimizers.items():
            optimizer.load_state_dict(state["optimizers"][name])
    except (RuntimeError, KeyError, ValueError, TypeError) as error:
        raise InfoGANError(f"checkpoint {path} does not fit the model ({first_line(error)})") from None
    for name, optimizer in optimizers.items():
        for group, (lr, betas) in zip(optimizer.param_groups, chosen[name], strict=True):
            group.update(lr=lr, betas=betas)
    return state


def resume_from_latest(
    run: Path,
    model: InfoGAN,
    optimizers: dict[str, torch.optim.Optimizer],
    config: TrainConfig,
    latent_rng: torch.Generator,
    rank: int,
    world_size: int,
    images: int,
) -> Position:
    """Restore RUN/checkpoints/latest.pt: weights, optimizer moments, torch's and this rank's latent
    generator; returns the position to go on from, checked against a data set of `images` images."""
    state = restore(run / "checkpoints" / LATEST, model, optimizers, config)
    torch.set_rng_state(state["rng"]["torch"])
    latent_rng.set_state(latent_states(state, world_size)[rank])
    check_position(state, images, images // world_size // config.batch_size)
    log.info("resumed %s at step %d (epoch %d)", run, state["step"], state["epoch"])
    return Position(state["step"], state["epoch"], state["batch_in_epoch"], state["rng"]["data_epoch"])


def check_position(state: dict, images: int, steps_per_epoch: int) -> None:
    """A checkpoint's place in its epoch only means the same batches on a data set of the same size."""
    advice = "resume on the same data, or start a new run in another --out"
    saved = state.get("data_images")  # absent from checkpoints written before it was recorded
    if saved is not None and saved != images:
        raise InfoGANError(f"the checkpoint was trained on {saved} images, this data set has {images}: {advice}")
    if state["batch_in_epoch"] >= steps_per_epoch:  # no epoch may start past its last batch
        raise InfoGANError(
            f"the checkpoint stopped at batch {state['batch_in_epoch']} of an epoch, past the {steps_per_epoch} "
            f"batches of this data set's: {advice}"
        )


def latent_states(state: dict, world_size: int) -> list[torch.Tensor]:
    """The latent generators' states by rank; a run resumes only on as many processes as it was saved from,
    since the batch size is per process and each process draws its own latents."""
    latents = state["rng"]["latent"]
    latents = [latents] if isinstance(latents, torch.Tensor) else latents  # format 1: one process
    if len(latents) != world_size:
        raise InfoGANError(
            f"the checkpoint was written by {len(latents)} process(es), not {world_size}: resume with "
            f"torchrun --nproc_per_node (times --nnodes) = {len(latents)}, or start a new run"
        )
    return latents


def nonfinite_advice(run: Path, skipping: bool = False) -> str:
    """What to do after a run diverged: where the last good checkpoint is and how to go on (--skip-nonfinite
    only where the run did not already skip)."""
    steps = saved_steps(run / "checkpoints")
    remedies = "lower learning rates (--lr-d/--lr-g/--lr-q) or --noise-scale" + (
        "" if skipping else ", or pass --skip-nonfinite"
    )
    if not steps:
        return f"no checkpoint was written; start again with `--out {run} --overwrite` and {remedies}"
    kept = f"the last good checkpoint ({steps[-1].name}) is kept"
    return f"{kept}; resume with `infogan train --resume {shlex.quote(str(run))}` and {remedies}"
