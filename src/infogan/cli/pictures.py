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

MAX_UPSCALE = 16  # 64 px tiles at 1024 px: more only makes a larger file

if typing.TYPE_CHECKING:
    from infogan.latent import LatentSpec


def write_png(images_and_columns: tuple, out: Path, upscale: int = 1, row_labels: list[str] | None = None) -> None:
    from infogan.visualize import save_grid

    images, columns = images_and_columns
    print(save_grid(images, columns, out, row_labels, upscale))


def check_hand_set_codes(spec: LatentSpec, args: argparse.Namespace) -> None:
    """--cat, --cont and --vary-cat against the model's codes, naming the flag and what to pass
    (code_latent then checks each value's range). A flag left out takes the codes --seed draws."""
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
        varied = kind == "categorical" and args.vary_cat is not None
        if given is None or len(given) == len(wanted) or (varied and len(given) == len(wanted) - 1):
            continue  # left out, one value per code, or none for the code --vary-cat varies
        if not wanted:
            raise InfoGANError(f"the model has no {kind} code: drop {name}")
        ignored = " (the value of the code --vary-cat varies is ignored)" if varied else ""
        raise InfoGANError(
            f"{name} takes {len(wanted)} value(s), one per {kind} code ({', '.join(wanted)}), got {len(given)}: "
            f"e.g. {name} {' '.join(['0'] * len(wanted))}{ignored}, or leave {name} out for the codes --seed draws"
        )


def command_sample(args: argparse.Namespace) -> None:
    from infogan import generate
    from infogan.latent import seeded_codes
    from infogan.run_folder import load_run

    out = output_path(args, "sample.png")
    run = load_run(args.run, args.device)
    spec = run.model.spec
    if args.cat is None and args.cont is None and args.vary_cat is None:
        grid = generate.sample_grid(run.model, args.seed, args.columns)
        write_png(grid, out, args.upscale, generate.sample_grid_rows(spec))
        return
    check_hand_set_codes(spec, args)  # codes set by hand, as `infogan explore` shows them
    drawn_categorical, drawn_continuous = seeded_codes(spec, args.seed)
    categorical = drawn_categorical if args.cat is None else list(args.cat)
    if args.vary_cat is not None and len(categorical) < len(spec.categorical):
        categorical.insert(args.vary_cat, 0)  # a value for the varied code, which takes every value anyway
    continuous = drawn_continuous if args.cont is None else args.cont
    write_png(generate.code_images(run.model, args.seed, categorical, continuous, args.vary_cat), out, args.upscale)


def command_traverse(args: argparse.Namespace) -> None:
    from infogan import generate
    from infogan.run_folder import load_run

    out = output_path(args, f"traverse-cont{args.code}.png")
    run = load_run(args.run, args.device)
    grid = generate.traversal(run.model, args.code, args.seed, args.steps)
    write_png(grid, out, args.upscale, generate.traversal_rows(run.model.spec))


def command_interpolate(args: argparse.Namespace) -> None:
    from infogan import generate
    from infogan.run_folder import load_run

    out = output_path(args, "interpolate.png")
    run = load_run(args.run, args.device)
    write_png(generate.interpolation(run.model, args.seed, args.pairs, args.steps), out, args.upscale)


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
    sample = run_command(
        commands, "sample", "sample grid: rows fix each categorical code in turn", command_sample, "sample.png"
    )
    sample.add_argument("--columns", type=count(1, MAX_COUNT), default=10, help="images per row")
    hand_set = sample.add_argument_group("one image with codes set by hand (what is left out: drawn with --seed)")
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
    for pictures in (sample, traverse, interpolate):
        pictures.add_argument(
            "--upscale", type=count(1, MAX_UPSCALE), default=1, metavar="N", help="enlarge each image N times"
        )
    encode = run_command(commands, "encode", "Q's codes of real images, to CSV", command_encode, "codes.csv")
    encode.description = (
        "One row per image: index, file (image folders), label and class (the class\n"
        "subfolder; labels number them alphabetically from 0), then Q's most likely\n"
        "value of each categorical code and its mean of each continuous code."
    )
    encode.add_argument("--data", metavar="DIR", help="data folder (default: the run's)")
    encode.add_argument("--split", choices=SPLITS, default="test", help="split to encode (one-split sources: all)")
