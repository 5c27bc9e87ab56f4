"""Checkpoints: one versioned schema, written atomically, loaded with weights_only=True.

Schema (FORMAT_VERSION 1): {"format", "config", "model", "optimizers", "step", "epoch",
"batch_in_epoch", "rng": {"torch", "data_epoch", "latent", "cuda"?}}. Tensors, numbers, strings,
lists and dicts only, so loading runs no pickled code.
"""

from __future__ import annotations

import os
import pickle
import zipfile
from pathlib import Path
from typing import Any

import torch

from infogan.errors import InfoGANError

FORMAT_VERSION = 1


def save_checkpoint(state: dict[str, Any], path: str | Path) -> None:
    """Write to a temporary file, flush and fsync it, then rename over `path`: a crash mid-write
    leaves the previous checkpoint intact, never a truncated one."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".part")
    with open(partial, "wb") as handle:
        torch.save({"format": FORMAT_VERSION, **state}, handle)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(partial, path)
    directory = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(directory)  # make the rename itself durable
    finally:
        os.close(directory)


def load_checkpoint(path: str | Path, map_location: str | torch.device = "cpu") -> dict[str, Any]:
    """Load and check a checkpoint; any problem becomes an InfoGANError that names the file."""
    path = Path(path)
    if not path.is_file():
        raise InfoGANError(f"checkpoint {path} not found: train the run first (infogan train --out ...)")
    try:
        state = torch.load(path, map_location=map_location, weights_only=True)
    except (RuntimeError, pickle.UnpicklingError, zipfile.BadZipFile, EOFError, OSError) as error:
        raise InfoGANError(f"checkpoint {path} is corrupt ({str(error).splitlines()[0]})") from None
    if not isinstance(state, dict) or "format" not in state:
        raise InfoGANError(f"{path} is not an infogan checkpoint")
    if state["format"] > FORMAT_VERSION:
        raise InfoGANError(
            f"checkpoint {path} has format {state['format']}, newer than this infogan reads ({FORMAT_VERSION}): "
            "upgrade infogan"
        )
    return state
