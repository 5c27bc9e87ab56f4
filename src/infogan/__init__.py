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
import sys
import types
from typing import Any

from infogan.numerics import reproducible_cpu_math

EXPORTS = {  # public name -> the module that defines it
    "PRESETS": "infogan.config",
    "TrainConfig": "infogan.config",
    "preset_config": "infogan.config",
    "ImageData": "infogan.data",
    "load_dataset": "infogan.data",
    "InfoGANError": "infogan.errors",
    "Run": "infogan.generate",
    "encode": "infogan.generate",
    "interpolation": "infogan.generate",
    "load_run": "infogan.generate",
    "sample_grid": "infogan.generate",
    "traversal": "infogan.generate",
    "Latent": "infogan.latent",
    "LatentSpec": "infogan.latent",
    "sample_latent": "infogan.latent",
    "InfoGAN": "infogan.networks",
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
reproducible_cpu_math()  # on import, before any computation: MKL reads its mode at its first call
