"""`infogan train`, `sweep` and `dsprites`: commands that make run folders and the data they train on."""

from __future__ import annotations

import argparse
import logging
import shlex
from pathlib import Path

from infogan.cli.options import (
    add_config_flags,
    check_suffix,
    config_from_args,
    env_rank,
    output_file,
    presets_listing,
)
from infogan.config import DEFAULT_PRESET, MAX_SEEDS, PHOTO_PRESET, PRESETS, RUN_FOLDER
from infogan.files import check_folder

log = logging.getLogger(__name__)

PRESET_HELP = f"see presets below (default: {DEFAULT_PRESET}; with --dataset folder: {PHOTO_PRESET})"


def command_train(args: argparse.Namespace) -> None:
    from infogan.train import train

    run = train(config_from_args(args), resume=bool(args.resume), overwrite=args.overwrite)
    if env_rank() == 0:
        for line in run_summary(run):
            log.info(line)
        print(run)


def command_sweep(args: argparse.Namespace) -> None:
    from infogan.sweep import seed_list, sweep

    seeds = seed_list(args.seeds)
    config = config_from_args(args)
    root = args.out or f"runs/sweep-{config.preset}"
    sweep(config, seeds, args.jobs, root)
    print(root)


def run_summary(run: Path) -> list[str]:
    """What a finished run reached and made, and what to run next: the end of `make demo` and of every run."""
    from infogan.plot import read_metrics

    lines = []
    scores = [record for record in read_metrics(run) if record["event"] == "eval"]
    if scores:
        last = scores[-1]
        codes = [key.removesuffix("_acc") for key in last if key.endswith("_acc")]
        accuracies = ", ".join(f"{code} {last[f'{code}_acc']:.3f}" for code in codes)
        majority = f" (majority class: {last[f'{codes[0]}_majority']:.3f})" if f"{codes[0]}_majority" in last else ""
        lines.append(f"clustering ACC at step {last['step']}, as infogan evaluate scores it: {accuracies}{majority}")
    samples = sorted((run / "samples").glob("epoch-*.png"))
    if samples:
        traversals = sorted((run / "traversals").glob(f"{samples[-1].stem}-cont*.png"))
        lines.append(f"sample grid: {samples[-1]}")
        lines += [f"traversal:   {path}" for path in traversals]
    quoted = shlex.quote(str(run))  # the next commands run as printed, whatever the folder's name
    lines.append(f"next: infogan evaluate {quoted}   (scores, confusion matrix, each category's members)")
    lines.append(f"      infogan explore {quoted}    (a local web page to steer the codes)")
    return lines


def command_dsprites(args: argparse.Namespace) -> None:
    from infogan.data.dsprites import write_npz

    out = args.out
    check_suffix(out, ".npz")
    check_folder(out.parent, "--out")
    out.parent.mkdir(parents=True, exist_ok=True)
    write_npz(out)
    print(out)


def add_commands(commands: argparse._SubParsersAction) -> None:
    """train, sweep and dsprites."""
    train = commands.add_parser(
        "train",
        help="train a model, writing a run folder",
        usage="%(prog)s [--preset NAME] [--resume RUN | --overwrite] [OPTION ...]",
        description="Train InfoGAN from a preset; every flag given overrides the preset's value.",
        epilog=presets_listing(),
    )
    train.add_argument("--preset", choices=PRESETS, metavar="NAME", help=PRESET_HELP)
    groups = add_config_flags(train)
    existing = groups[RUN_FOLDER].add_mutually_exclusive_group()
    existing.add_argument("--resume", metavar="RUN", help="continue RUN from its latest checkpoint")
    existing.add_argument("--overwrite", action="store_true", help="replace the run already in --out")
    train.set_defaults(handler=command_train)

    sweep = commands.add_parser(
        "sweep",
        help="train one config over several seeds side by side",
        usage="%(prog)s --seeds N|S [S ...] [--jobs J] [--out DIR] [OPTION ...]",
        description="Train the same options once per seed into DIR/seed-K, J runs at a time\n"
        "(torch threads = cores / J). The same command again resumes: finished runs are\n"
        "skipped, interrupted ones continue from their checkpoint.",
        epilog=presets_listing(),
    )
    sweep.add_argument("--preset", choices=PRESETS, metavar="NAME", help=PRESET_HELP)
    jobs = add_config_flags(sweep, skip=("seed", "out"))[RUN_FOLDER]
    jobs.add_argument(
        "--seeds",
        type=int,
        nargs="+",
        required=True,
        metavar="S",
        help=f"N: seeds 0..N-1; several: those (at most {MAX_SEEDS})",
    )
    jobs.add_argument("--jobs", type=int, default=1, help="runs trained at once")
    jobs.add_argument("--out", metavar="DIR", help="folder of the runs, seed-K each (default: runs/sweep-PRESET)")
    sweep.set_defaults(handler=command_sweep)

    sprites = commands.add_parser("dsprites", help="write the procedural dSprites set in the original file's layout")
    sprites.add_argument(
        "--out", type=output_file, required=True, metavar="FILE.npz", help="file to write (compressed .npz)"
    )
    sprites.set_defaults(handler=command_dsprites)
