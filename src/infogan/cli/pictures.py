"""`infogan sample`, `traverse`, `interpolate` and `encode`: a trained model's images and codes."""

from __future__ import annotations

import argparse
import csv
import os
import typing
from pathlib import Path

from infogan.cli.options import MAX_COUNT, count, output_path, run_command
from infogan.config import SPLITS
from infogan.errors import InfoGANError
from infogan.files import atomic_write

if typing.TYPE_CHECKING:
    from infogan.latent import LatentSpec


def write_png(images_and_columns: tuple, out: Path) -> None:
    from infogan.visualize import save_grid

    images, columns = images_and_columns
    print(save_grid(images, columns, out))


def check_hand_set_codes(spec: LatentSpec, args: argparse.Namespace) -> None:
    """--cat, --cont and --vary-cat against the model's codes, naming the flag and what to pass
    (code_latent then checks each value's range)."""
    names = spec.code_names()
    cats = len(spec.categorical)
    if args.vary_cat is not None and not 0 <= args.vary_cat < cats:
        fix = f"pass --vary-cat {'0' if cats == 1 else f'0..{cats - 1}'}" if cats else "drop --vary-cat"
        raise InfoGANError(
            f"--vary-cat {args.vary_cat} does not exist: the model has {cats} categorical code(s), {fix}"
        )
    for name, given, wanted, kind in (
        ("--cat", args.cat, names[:cats], "categorical"),
        ("--cont", args.cont, names[cats:], "continuous"),
    ):
        given = given or []
        varied = kind == "categorical" and args.vary_cat is not None
        if len(given) == len(wanted) or (varied and len(given) == len(wanted) - 1):  # the varied one may be left out
            continue
        if not wanted:
            raise InfoGANError(f"the model has no {kind} code: drop {name}")
        ignored = (
            " (the value of the code --vary-cat varies is ignored)"
            if kind == "categorical" and args.vary_cat is not None
            else ""
        )
        raise InfoGANError(
            f"{name} takes {len(wanted)} value(s), one per {kind} code ({', '.join(wanted)}), got {len(given)}: "
            f"e.g. {name} {' '.join(['0'] * len(wanted))}{ignored}"
        )


def command_sample(args: argparse.Namespace) -> None:
    from infogan import generate
    from infogan.run_folder import load_run

    out = output_path(args, "sample.png")
    run = load_run(args.run, args.device)
    if args.cat is None and args.cont is None and args.vary_cat is None:
        write_png(generate.sample_grid(run.model, args.seed, args.columns), out)
    else:  # codes set by hand, as `infogan explore` shows them
        check_hand_set_codes(run.model.spec, args)
        categorical = list(args.cat or [])
        if args.vary_cat is not None and len(categorical) < len(run.model.spec.categorical):
            categorical.insert(args.vary_cat, 0)  # a value for the varied code, which takes every value anyway
        write_png(generate.code_images(run.model, args.seed, categorical, args.cont or [], args.vary_cat), out)


def command_traverse(args: argparse.Namespace) -> None:
    from infogan import generate
    from infogan.run_folder import load_run

    out = output_path(args, f"traverse-cont{args.code}.png")
    run = load_run(args.run, args.device)
    write_png(generate.traversal(run.model, args.code, args.seed, args.steps), out)


def command_interpolate(args: argparse.Namespace) -> None:
    from infogan import generate
    from infogan.run_folder import load_run

    out = output_path(args, "interpolate.png")
    run = load_run(args.run, args.device)
    write_png(generate.interpolation(run.model, args.seed, args.pairs, args.steps), out)


def command_encode(args: argparse.Namespace) -> None:
    from infogan import generate
    from infogan.data import load_dataset
    from infogan.run_folder import load_run

    out = output_path(args, "codes.csv")
    run = load_run(args.run, args.device)
    data = load_dataset(run.config, args.split, args.data)
    logits, means = generate.encode(run.model, data.images)
    spec = run.model.spec
    with atomic_write(out, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["index", "file", "label", "class", *spec.code_names()])
        argmax = [code.argmax(1).tolist() for code in logits]
        for i in range(len(data)):
            file = "" if data.files is None else printable(data.files[i])
            label = "" if data.labels is None else int(data.labels[i])
            name = "" if data.classes is None or data.labels is None else data.classes[label]
            codes = [*(values[i] for values in argmax), *(f"{v:.6g}" for v in means[i].tolist())]
            writer.writerow([i, file, label, name, *codes])
    print(out)


def printable(path: Path) -> str:
    """A file name as text: bytes that are not UTF-8 (a valid name on Linux) shown as \\xNN escapes."""
    return os.fsencode(path).decode("utf-8", "backslashreplace")


def add_commands(commands: argparse._SubParsersAction) -> None:
    """sample, traverse, interpolate and encode: a trained model's images and codes."""
    run_command(commands, "sample", "sample grid, first categorical code fixed per row", command_sample, "sample.png")
    commands.choices["sample"].add_argument("--columns", type=count(1, MAX_COUNT), default=10, help="images per row")
    hand_set = commands.choices["sample"].add_argument_group("one image with codes set by hand (noise from --seed)")
    hand_set.add_argument("--cat", type=int, nargs="+", metavar="V", help="value of each categorical code")
    hand_set.add_argument("--cont", type=float, nargs="+", metavar="X", help="each continuous code, in [-2, 2]")
    hand_set.add_argument("--vary-cat", type=int, metavar="I", help="a row over every value of categorical code I")
    traverse = run_command(commands, "traverse", "continuous code from -1 to 1", command_traverse, "traverse-contK.png")
    traverse.add_argument(
        "--code", type=count(0, MAX_COUNT), required=True, metavar="K", help="index of the continuous code"
    )
    traverse.add_argument("--steps", type=count(2, MAX_COUNT), default=10, help="images from -1 to 1")
    interpolate = run_command(
        commands, "interpolate", "interpolate between generated images", command_interpolate, "interpolate.png"
    )
    interpolate.add_argument("--pairs", type=count(1, MAX_COUNT), default=8, help="pairs of latents, one row each")
    interpolate.add_argument(
        "--steps", type=count(2, MAX_COUNT), default=10, help="images from one latent to the other"
    )
    encode = run_command(commands, "encode", "Q's codes of real images, to CSV", command_encode, "codes.csv")
    encode.description = (
        "One row per image: index, file (image folders), label and class (the class\n"
        "subfolder; labels number them alphabetically from 0), then Q's most likely\n"
        "value of each categorical code and its mean of each continuous code."
    )
    encode.add_argument("--data", metavar="DIR", help="data folder (default: the run's)")
    encode.add_argument("--split", choices=SPLITS, default="test", help="split to encode (one-split sources: all)")
