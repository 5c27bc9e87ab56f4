"""infogan: train InfoGAN models (Chen et al., 2016) and measure the codes they learn.

The command line is thin over these functions:

    from infogan import preset_config, train, load_run, sample_grid, save_grid
    run_dir = train(preset_config("mnist", epochs=5, out="runs/mine"))
    run = load_run(run_dir)
    save_grid(*sample_grid(run.model), "grid.png")

The names below are imported on first use, not with the package: every `infogan` command imports
the package first, and PyTorch alone takes seconds to import, which `infogan --help` need not wait for.
"""

from __future__ import annotations

import importlib
import os
import sys
import types
from typing import Any

# Bitwise-reproducible CPU arithmetic across processes: Intel MKL's strict numerical reproducibility mode.
# By default MKL chooses among code paths at run time, and in a fresh process the first vector-math calls
# (the tanh of G's output layer) sometimes round differently from later ones: a run resumed in a new process
# then drifted from the uninterrupted run (3 of 15 fresh processes here; none of 10 in this mode). MKL reads
# MKL_CBWR at its first call, so it is set here, on import, before any computation; a user's own MKL_CBWR
# wins. AUTO: the fastest code path this CPU supports; STRICT: results independent of threads and timing.
# Cost: none measurable (benchmarks/train_speed.py).
os.environ.setdefault("MKL_CBWR", "AUTO,STRICT")

EXPORTS = {  # public name -> the module that defines it
    "PRESETS": "infogan.config",
    "TrainConfig": "infogan.config",
    "preset_config": "infogan.config",
    "ImageData": "infogan.data",
    "load_dataset": "infogan.data",
    "InfoGANError": "infogan.errors",
    "encode": "infogan.generate",
    "interpolation": "infogan.generate",
    "sample_grid": "infogan.generate",
    "traversal": "infogan.generate",
    "Latent": "infogan.latent",
    "LatentSpec": "infogan.latent",
    "sample_latent": "infogan.latent",
    "evaluate": "infogan.metrics",
    "InfoGAN": "infogan.networks",
    "Run": "infogan.run_folder",
    "load_run": "infogan.run_folder",
    "select_runs": "infogan.selection",
    "sweep": "infogan.sweep",
    "train": "infogan.train",
    "train_step": "infogan.train",
    "image_grid": "infogan.visualize",
    "save_grid": "infogan.visualize",
}
__all__ = sorted(EXPORTS)


def __getattr__(name: str) -> Any:
    if name not in EXPORTS:
        raise AttributeError(f"module 'infogan' has no attribute {name!r}")
    value = getattr(importlib.import_module(EXPORTS[name]), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *EXPORTS})


class _Package(types.ModuleType):
    """Keeps `infogan.train` the function: importing the submodule infogan.train would otherwise bind
    the module to that name on the package, as it did not when the package imported everything."""

    def __setattr__(self, name: str, value: Any) -> None:
        if isinstance(value, types.ModuleType) and EXPORTS.get(name) == value.__name__:
            return
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package
