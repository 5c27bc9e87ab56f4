"""What every command shares: the parser and help layout, argparse types, the --out checks,
the flags made from TrainConfig's fields and their resolution into a config.
"""

from __future__ import annotations

import argparse
import dataclasses
import logging
import math
import os
import shutil
import textwrap
import typing
from collections.abc import Callable
from pathlib import Path

from infogan.config import (
    COMPILE_MODES,
    DATASETS,
    DEFAULT_PRESET,
    DEVICES,
    GROUPS,
    HARDWARE,
    NETWORKS,
    PHOTO_PRESET,
    PRECISIONS,
    PRESETS,
    SEED_LIMIT,
    SPLITS,
    TrainConfig,
    default_preset,
    flag,
    preset_config,
)
from infogan.errors import InfoGANError
from infogan.files import check_folder

log = logging.getLogger(__name__)

# Modules that import torch, matplotlib, scipy, scikit-learn or flask are imported inside the commands
# that use them: `infogan --help` and the parser never wait for them (benchmarks/startup.py).
MAX_COUNT = 100  # columns, steps and pairs of a generated grid: 100 x 100 images is plenty for one PNG
CHOICES = {
    "dataset": DATASETS,
    "split": SPLITS,
    "device": DEVICES,
    "network": NETWORKS,
    "compile": COMPILE_MODES,
    "precision": PRECISIONS,
}
NOT_FLAGS = ("preset", "version")


def env_rank() -> int:
    """This process's rank as torchrun sets it (0 when not under torchrun): only rank 0 speaks."""
    return int(os.environ.get("RANK", "0"))


class Formatter(argparse.RawDescriptionHelpFormatter):
    """Options with room for a long flag and its metavar, each with its default unless its help gives it;
    N for integers and X for numbers; descriptions and epilogs as written."""

    def __init__(self, prog: str) -> None:
        super().__init__(prog, max_help_position=32)

    def _get_help_string(self, action: argparse.Action) -> str | None:
        hidden = action.default is None or action.default is False or action.default == argparse.SUPPRESS
        if not action.help or hidden or "default" in action.help:
            return action.help
        return f"{action.help} (default: %(default)s)"

    def _get_default_metavar_for_optional(self, action: argparse.Action) -> str:
        return {int: "N", float: "X"}.get(action.type, action.dest.upper())


class Parser(argparse.ArgumentParser):
    """Usage mistakes (unknown flag, preset or choice, a value of the wrong type) become InfoGANError,
    so they print as one line like every other bad input instead of the whole usage text.

    `epilog_from` makes the epilog only when the help is shown, for text that needs a slow import.
    """

    def __init__(self, *args: typing.Any, epilog_from: Callable[[], str] | None = None, **kwargs: typing.Any):
        super().__init__(*args, formatter_class=Formatter, **kwargs)
        self.epilog_from = epilog_from

    def error(self, message: str) -> typing.NoReturn:
        raise InfoGANError(f"{message} (see `{self.prog} --help`)")

    def format_help(self) -> str:
        if self.epilog_from is not None:
            self.epilog = self.epilog_from()
        return super().format_help()


def listing(title: str, rows: dict[str, str]) -> str:
    """A titled list of names and descriptions, wrapped to the terminal like argparse's own help."""
    width, indent = min(shutil.get_terminal_size().columns, 100) - 2, max(map(len, rows)) + 4
    lines = [title]
    for name, text in rows.items():
        first = f"  {name:<{indent - 2}}"
        lines += textwrap.wrap(
            text, width, initial_indent=first, subsequent_indent=" " * indent, break_on_hyphens=False
        )
    return "\n".join(lines)


def shown(value: typing.Any) -> str:
    """A default as one would read it: on/off, 10 10, 0.0002."""
    if isinstance(value, bool):
        return "on" if value else "off"
    if isinstance(value, tuple):
        return " ".join(map(str, value)) or "none"
    return str(value)


def typed(name: str, value: typing.Any) -> str:
    """The flags that set field `name` to `value`: --spectral-norm, --categorical 10 10, --lr-d 0.002."""
    if isinstance(value, bool):
        return flag(name) if value else "--no-" + flag(name)[2:]
    return f"{flag(name)} {' '.join(map(str, value)) if isinstance(value, tuple) else value}".rstrip()


def default_note(field: dataclasses.Field) -> str:
    """' (default: X)' as `infogan train` without --preset resolves it, and the field's own where that differs."""
    if field.default is None:
        return ""  # the help says what an unset option means
    value = PRESETS[DEFAULT_PRESET].overrides.get(field.name, field.default)
    if value == field.default:
        return f" (default: {shown(value)})"
    return f" (default: {shown(value)} from preset {DEFAULT_PRESET}; {shown(field.default)} without it)"


def presets_listing() -> str:
    rows = {}
    for name, preset in PRESETS.items():
        sets = " ".join(typed(key, value) for key, value in preset.overrides.items())
        rows[name] = f"{preset.reason}." + (f" Sets {sets}." if sets else "")
    return listing(f"presets (--preset NAME; default {DEFAULT_PRESET}, {PHOTO_PRESET} with --dataset folder):", rows)


def count(minimum: int, maximum: int) -> Callable[[str], int]:
    """argparse type of a count flag (--columns, --steps, ...): a whole number in minimum..maximum, so
    that a bad one fails before the run is loaded (the maximum keeps one command line from
    asking for more images than memory holds)."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            value = None
        if value is None or not minimum <= value <= maximum:
            raise argparse.ArgumentTypeError(f"must be a whole number in {minimum}..{maximum} (got {text!r})")
        return value

    return parse


def seed(text: str) -> int:
    """argparse type of --seed: 0 <= S < 2**32, the range `infogan explore` offers (torch takes no
    seed past 2**64, and training keeps the seeds above 2**32 for its other processes)."""
    try:
        value = int(text)
    except ValueError:
        value = -1
    if not 0 <= value < SEED_LIMIT:
        raise argparse.ArgumentTypeError(f"must be a whole number in 0..{SEED_LIMIT - 1} (got {text!r})")
    return value


def positive_number(text: str) -> float:
    """argparse type of a scale factor: a finite number above 0 (float() would take nan and inf)."""
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not (math.isfinite(value) and value > 0):
        raise argparse.ArgumentTypeError(f"must be a finite number above 0 (got {text!r})")
    return value


def output_file(text: str) -> Path:
    """argparse type of --out: the name of a file, not of a folder."""
    if Path(text).is_dir() or text.endswith(("/", os.sep)):
        raise argparse.ArgumentTypeError(f"{text} is a folder: name the file to write in it")
    return Path(text)


def check_suffix(path: Path, suffix: str) -> None:
    """Pillow and matplotlib choose the format by the suffix (matplotlib adds .png to a name without one)."""
    if path.suffix.lower() != suffix:
        raise InfoGANError(f"--out {path} must end in {suffix}")


def output_path(args: argparse.Namespace, default_name: str) -> Path:
    """--out, or RUN/default_name, checked by `checked_out` before anything is loaded or written; the run
    must exist."""
    from infogan.run_folder import existing_run

    run = existing_run(args.run)
    return checked_out(args.out or run / default_name, Path(default_name).suffix, [run])


def checked_out(path: Path, suffix: str, runs: list[Path]) -> Path:
    """An output file, checked before anything is loaded or written: refused unless it ends in `suffix`,
    when it is a folder, when it lies in a file or folder that `infogan train` writes in one of the `runs`
    read (config.json, checkpoints/, samples/...), when it is a sweep's sweep.json, or when its folder
    cannot be written."""
    from infogan.run_folder import TRAINING_FILES
    from infogan.sweep import SWEEP_FILE

    check_suffix(path, suffix)
    if path.is_dir():
        raise InfoGANError(f"{path} is a folder: pass --out with the name of the file to write")
    for run in runs:
        try:
            inside = path.resolve().relative_to(run.resolve()).parts
        except ValueError:  # outside this run
            continue
        if inside and inside[0] in TRAINING_FILES:
            raise InfoGANError(
                f"--out {path} lies in {run / inside[0]}, which infogan train writes: choose another file"
            )
    if path.name == SWEEP_FILE and path.is_file():
        raise InfoGANError(f"--out {path} is a sweep's record, which infogan sweep writes: choose another file")
    check_folder(path.parent, "--out")
    return path


def add_config_flags(parser: argparse.ArgumentParser, skip: tuple[str, ...] = ()) -> dict[str, argparse._ArgumentGroup]:
    """One flag per TrainConfig field (but those in `skip`), typed from its annotation, in its --help group;
    unset flags stay None.

    Returns the groups by title, for the command's own flags to join them.
    """
    hints = typing.get_type_hints(TrainConfig)
    groups = {title: parser.add_argument_group(title) for title in GROUPS}
    for field in dataclasses.fields(TrainConfig):
        if field.name in NOT_FLAGS + skip:
            continue
        kind = hints[field.name]
        options: dict = {"dest": field.name, "default": None}
        help_text = field.metadata["help"]
        if kind is bool:
            options["action"] = argparse.BooleanOptionalAction
        elif typing.get_origin(kind) is tuple:
            options.update(type=int, nargs="*", metavar="K")
        else:
            base = next(t for t in typing.get_args(kind) or (kind,) if t is not type(None))
            choices = CHOICES.get(field.name)
            metavar = field.name.upper() if choices else "DIR" if base is str else None  # None: the formatter's
            options.update(type=base, choices=choices, metavar=metavar)
            help_text += f"; one of {', '.join(choices)}" if choices else ""
        options["help"] = help_text + default_note(field)
        groups[field.metadata["group"]].add_argument(flag(field.name), **options)
    if "precision" not in skip:  # the flags of infogan before --precision, kept as its aliases
        for alias, value in (("--amp", "bf16"), ("--no-amp", "float32")):
            help_text = f"the same as --precision {value}"
            groups[HARDWARE].add_argument(alias, dest="precision", action="store_const", const=value, help=help_text)
    return groups


def config_from_args(args: argparse.Namespace) -> TrainConfig:
    """Resolve: the preset (or the resumed run's config.json), then every flag the user gave."""
    given = {
        f.name: getattr(args, f.name)
        for f in dataclasses.fields(TrainConfig)
        if f.name not in NOT_FLAGS and getattr(args, f.name, None) is not None
    }
    if getattr(args, "resume", None):
        if "out" in given and Path(given["out"]).resolve() != Path(args.resume).resolve():
            raise InfoGANError(
                f"--resume continues {args.resume} in place, so --out {given['out']} cannot go with it: drop --out, "
                f"or copy the run first (cp -r {args.resume} {given['out']}) and pass --resume {given['out']}"
            )
        saved = TrainConfig.load(Path(args.resume) / "config.json")
        if "steps" not in given and "epochs" in given:
            given["steps"] = None  # a new epoch budget replaces a step budget
        return TrainConfig.from_dict({**saved.to_dict(), **given, "out": str(args.resume)}).validate()
    preset = args.preset or default_preset(given.get("dataset"))
    if args.preset is None and preset != DEFAULT_PRESET:
        reason = PRESETS[preset].reason
        log.info("no --preset: --dataset %s starts from the preset %s (%s)", given["dataset"], preset, reason)
        log.info("for digit-like images (strokes on a plain ground) pass --preset %s instead", DEFAULT_PRESET)
    if "out" not in given and preset != DEFAULT_PRESET:
        given["out"] = f"runs/{preset}"
    return preset_config(preset, **given)


def add_device(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--device", default="auto", choices=DEVICES, help="auto: CUDA when present")


def run_command(
    commands: argparse._SubParsersAction, name: str, help_text: str, handler: Callable, default_out: str
) -> argparse.ArgumentParser:
    """A command on a run folder: RUN, --out FILE (default RUN/default_out), --device and --seed."""
    sub = commands.add_parser(name, help=help_text)
    sub.add_argument("run", metavar="RUN", help="run folder written by infogan train")
    sub.add_argument("--out", type=output_file, metavar="FILE", help=f"file to write (default: RUN/{default_out})")
    add_device(sub)
    sub.add_argument("--seed", type=seed, default=0, help=f"seed of the latents drawn (0..{SEED_LIMIT - 1})")
    sub.set_defaults(handler=handler)
    return sub
