"""infogan: train InfoGAN models (Chen et al., 2016) and measure the codes they learn.

The command line is thin over these functions:

    from infogan import preset_config, train, load_run, sample_grid, save_grid
    run_dir = train(preset_config("mnist", epochs=5, out="runs/mine"))
    run = load_run(run_dir)
    save_grid(*sample_grid(run.model), "grid.png")
"""

from infogan.config import PRESETS, TrainConfig, preset_config
from infogan.data import ImageData, load_dataset
from infogan.errors import InfoGANError
from infogan.generate import Run, encode, interpolation, load_run, sample_grid, traversal
from infogan.latent import Latent, LatentSpec, sample_latent
from infogan.networks import InfoGAN
from infogan.numerics import reproducible_cpu_math
from infogan.train import train, train_step
from infogan.visualize import image_grid, save_grid

__all__ = [
    "PRESETS",
    "ImageData",
    "InfoGAN",
    "InfoGANError",
    "Latent",
    "LatentSpec",
    "Run",
    "TrainConfig",
    "encode",
    "image_grid",
    "interpolation",
    "load_dataset",
    "load_run",
    "preset_config",
    "sample_grid",
    "sample_latent",
    "save_grid",
    "train",
    "train_step",
    "traversal",
]

reproducible_cpu_math()  # on import, before any computation: MKL reads its mode at its first call
