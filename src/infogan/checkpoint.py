"""Checkpoints: one versioned schema, written atomically, checksummed, loaded with weights_only=True.

Schema (FORMAT_VERSION 2): {"format", "checksum", "config", "model", "optimizers", "step", "epoch",
"batch_in_epoch", "rng": {"torch", "data_epoch", "latent", "cuda"?}}. Tensors, numbers, strings,
lists and dicts only, so loading runs no pickled code. "checksum" is a SHA-256 of everything else:
torch.load does not check the zip's CRCs, and a flipped byte in tensor data loads silently.
Format 1 (no checksum) is still read.

A run folder keeps checkpoints/step-NNNNNNNN.pt for the last K saves and latest.pt, a hard link to
(or, where links are not supported, a copy of) the newest.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Any

import torch

from infogan.errors import InfoGANError, first_line
from infogan.files import atomic_write, copy_file, fsync_directory, partial_path

FORMAT_VERSION = 2
KEYS = ("config", "model", "optimizers", "step", "epoch", "batch_in_epoch", "rng")
LATEST = "latest.pt"
# torch wraps what its weights-only unpickler refused in advice to load with weights_only=False, which would
# run the file's code: only the refusal after this is shown
REFUSAL = "WeightsUnpickler error:"


def checksum(value: Any, digest: Any = None) -> str:
    """SHA-256 over nested dicts/lists of tensors and plain values, in order (tensors: dtype, shape, bytes)."""
    digest = digest or hashlib.sha256()
    if isinstance(value, torch.Tensor):
        tensor = value.detach().cpu().contiguous()
        digest.update(f"T{tensor.dtype}{tuple(tensor.shape)}".encode())
        digest.update(tensor.reshape(-1).view(torch.uint8).numpy().tobytes())
    elif isinstance(value, dict):
        for key, item in value.items():
            digest.update(f"K{key!r}".encode())
            checksum(item, digest)
    elif isinstance(value, (list, tuple)):
        digest.update(f"L{len(value)}".encode())
        for item in value:
            checksum(item, digest)
    else:
        digest.update(f"V{value!r}".encode())
    return digest.hexdigest()


def save_checkpoint(state: dict[str, Any], path: str | Path) -> None:
    """Write atomically (files.atomic_write): a crash or a full disk mid-write leaves the previous
    checkpoint intact, never a truncated one."""
    with atomic_write(path) as handle:
        torch.save({"format": FORMAT_VERSION, "checksum": checksum(state), **state}, handle)


def step_path(directory: Path, step: int) -> Path:
    return directory / f"step-{step:08d}.pt"


def saved_steps(directory: Path) -> list[Path]:
    """The kept step-NNNNNNNN.pt checkpoints of a folder, oldest first."""
    return sorted(directory.glob("step-[0-9]*.pt")) if directory.is_dir() else []


def save_rotating(state: dict[str, Any], directory: str | Path, keep: int) -> Path:
    """Save as step-NNNNNNNN.pt, point latest.pt at it atomically, keep only the newest `keep` steps."""
    directory = Path(directory)
    path = step_path(directory, state["step"])
    try:
        save_checkpoint(state, path)
    except InfoGANError as error:
        kept = f"; the previous one is kept as {LATEST}" if (directory / LATEST).is_file() else ""
        raise InfoGANError(f"{error}{kept}") from None
    partial = partial_path(directory / LATEST)
    partial.unlink(missing_ok=True)
    try:
        os.link(path, partial)
    except OSError:  # a file system without hard links
        copy_file(path, directory / LATEST)
    else:
        os.replace(partial, directory / LATEST)
        fsync_directory(directory)
    for old in saved_steps(directory)[:-keep]:
        old.unlink()
    return path


def load_checkpoint(
    path: str | Path, map_location: str | torch.device = "cpu", required: tuple[str, ...] = KEYS
) -> dict[str, Any]:
    """Load and check a checkpoint holding the `required` keys (a training run's by default); any
    problem becomes an InfoGANError that names the file."""
    path = Path(path)
    if not path.is_file():
        advice = recovery_hint(path, "use it") or "train the run first (infogan train --out ...)"
        raise InfoGANError(f"checkpoint {path} not found: {advice}")
    if path.stat().st_size == 0:
        raise damaged(path, "is empty (0 bytes, as an interrupted copy or a full disk leaves a file)")
    try:
        state = torch.load(path, map_location=map_location, weights_only=True)
    # A damaged zip or pickle stream surfaces as almost any exception type (RuntimeError, UnpicklingError,
    # KeyError from the unpickler's memo, UnicodeDecodeError, ...), depending on which byte is hit; the
    # tests flip every byte of a file to check this. Whatever fails to deserialise is a corrupt file.
    except Exception as error:
        refusal = str(error).partition(REFUSAL)[2].strip()
        if refusal.startswith("Unsupported global"):  # "Unsupported global: GLOBAL argparse.Namespace was not ..."
            objects = f"Python objects ({refusal.split()[3]}) besides tensors and plain values"
            raise damaged(path, f"holds {objects}, which infogan never loads") from None
        raise damaged(path, f"is corrupt ({refusal.splitlines()[0] if refusal else first_line(error)})") from None
    if not isinstance(state, dict) or not isinstance(state.get("format"), int):
        raise InfoGANError(f"{path} is not an infogan checkpoint")
    if state["format"] > FORMAT_VERSION:
        raise InfoGANError(
            f"checkpoint {path} has format {state['format']}, newer than this infogan reads ({FORMAT_VERSION}): "
            "upgrade infogan"
        )
    missing = [key for key in required if key not in state]
    if missing:
        raise damaged(path, f"is incomplete (no {', '.join(missing)}): it is corrupt")
    if state["format"] >= 2:
        body = {key: value for key, value in state.items() if key not in ("format", "checksum")}
        if state.get("checksum") != checksum(body):
            raise damaged(path, "is corrupt (its checksum does not match its contents)")
    return state


def damaged(path: Path, problem: str) -> InfoGANError:
    """The error of a checkpoint that does not load; for latest.pt, with the kept step file to use instead."""
    hint = recovery_hint(path, "use it") if path.name == LATEST else ""
    return InfoGANError(f"checkpoint {path} {problem}" + (f": {hint}" if hint else ""))


def recovery_hint(latest: Path, purpose: str) -> str:
    """When `latest` is missing or damaged: which kept step file to copy over it, or "" when none is kept."""
    older = [p for p in saved_steps(latest.parent) if not (latest.is_file() and p.samefile(latest))]
    return f"copy checkpoints/{older[-1].name} to {latest.name} to {purpose}" if older else ""
