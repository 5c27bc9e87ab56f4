"""The `infogan` command line: parses and resolves options, then calls the Python API.

Every training option comes from TrainConfig's fields, so the flags and the saved config.json can
never drift apart. Errors from bad input print one line and exit with status 2 (--debug shows the
traceback).
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import dataclasses
import logging
import sys
import typing
from pathlib import Path

from infogan import generate
from infogan.config import DATASETS, DEVICES, PRESETS, SPLITS, TrainConfig, flag, preset_config
from infogan.errors import InfoGANError
from infogan.visualize import save_grid

CHOICES = {"dataset": DATASETS, "split": SPLITS, "device": DEVICES}
NOT_FLAGS = ("preset", "version")


def add_config_flags(parser: argparse.ArgumentParser) -> None:
    """One flag per TrainConfig field, typed from its annotation; unset flags stay None."""
    hints = typing.get_type_hints(TrainConfig)
    for field in dataclasses.fields(TrainConfig):
        if field.name in NOT_FLAGS:
            continue
        kind, help_text = hints[field.name], f"{field.metadata['help']} (default: {field.default!r})"
        options: dict = {"dest": field.name, "default": None, "help": help_text}
        if kind is bool:
            options["action"] = argparse.BooleanOptionalAction
        elif typing.get_origin(kind) is tuple:
            options.update(type=int, nargs="*", metavar="K")
        else:
            base = next(t for t in typing.get_args(kind) or (kind,) if t is not type(None))
            options.update(type=base, choices=CHOICES.get(field.name))
        parser.add_argument(flag(field.name), **options)


def config_from_args(args: argparse.Namespace) -> TrainConfig:
    """Resolve: the preset (or the resumed run's config.json), then every flag the user gave."""
    given = {
        f.name: getattr(args, f.name)
        for f in dataclasses.fields(TrainConfig)
        if f.name not in NOT_FLAGS and getattr(args, f.name) is not None
    }
    if args.resume:
        saved = TrainConfig.load(Path(args.resume) / "config.json")
        if "steps" not in given and "epochs" in given:
            given["steps"] = None  # a new epoch budget replaces a step budget
        return TrainConfig.from_dict({**saved.to_dict(), **given, "out": str(args.resume)}).validate()
    if "out" not in given and args.preset != "mnist":
        given["out"] = f"runs/{args.preset}"
    return preset_config(args.preset, **given)


def command_train(args: argparse.Namespace) -> None:
    from infogan.train import train

    run = train(config_from_args(args), resume=bool(args.resume), overwrite=args.overwrite)
    print(run)


def write_png(run: generate.Run, images_and_columns: tuple, out: str | None, default_name: str) -> None:
    images, columns = images_and_columns
    print(save_grid(images, columns, out or run.directory / default_name))


def command_sample(args: argparse.Namespace) -> None:
    run = generate.load_run(args.run, args.device)
    if args.cat is None and args.cont is None and args.vary_cat is None:
        write_png(run, generate.sample_grid(run.model, args.seed, args.columns), args.out, "sample.png")
    else:  # codes set by hand, as `infogan explore` shows them
        images = generate.code_images(run.model, args.seed, args.cat or [], args.cont or [], args.vary_cat)
        write_png(run, images, args.out, "sample.png")


def command_traverse(args: argparse.Namespace) -> None:
    run = generate.load_run(args.run, args.device)
    images = generate.traversal(run.model, args.code, args.seed, args.steps)
    write_png(run, images, args.out, f"traverse-cont{args.code}.png")


def command_interpolate(args: argparse.Namespace) -> None:
    run = generate.load_run(args.run, args.device)
    images = generate.interpolation(run.model, args.seed, args.pairs, args.steps)
    write_png(run, images, args.out, "interpolate.png")


def command_encode(args: argparse.Namespace) -> None:
    from infogan.data import load_dataset

    run = generate.load_run(args.run, args.device)
    data = load_dataset(run.config, args.split, args.data)
    logits, means = generate.encode(run.model, data.images)
    out = Path(args.out or run.directory / "codes.csv")
    out.parent.mkdir(parents=True, exist_ok=True)
    spec = run.model.spec
    with open(out, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["index", "label", *spec.code_names()])
        argmax = [code.argmax(1).tolist() for code in logits]
        for i in range(len(data)):
            label = "" if data.labels is None else int(data.labels[i])
            writer.writerow([i, label, *(codes[i] for codes in argmax), *(f"{v:.6g}" for v in means[i].tolist())])
    print(out)


def command_explore(args: argparse.Namespace) -> None:
    from infogan.explore import make_server

    server = make_server(args.run, args.host, args.port, args.allow_remote, args.device)
    print(f"exploring {args.run} at http://{args.host}:{server.server_port}/ (Ctrl-C stops)", flush=True)
    with contextlib.suppress(KeyboardInterrupt):
        server.serve_forever()
    server.server_close()


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="infogan", description="Train InfoGAN models and look at their codes.")
    parser.add_argument("--debug", action="store_true", help="show tracebacks instead of one-line errors")
    commands = parser.add_subparsers(dest="command", required=True)

    train = commands.add_parser("train", help="train a model, writing a run folder")
    train.add_argument("--preset", default="mnist", choices=sorted(PRESETS), help="named starting configuration")
    train.add_argument("--resume", metavar="RUN", help="continue RUN from its latest checkpoint")
    train.add_argument("--overwrite", action="store_true", help="replace the run already in --out")
    add_config_flags(train)
    train.set_defaults(handler=command_train)

    def run_command(name: str, help_text: str, handler, default_out: str) -> argparse.ArgumentParser:
        sub = commands.add_parser(name, help=help_text)
        sub.add_argument("run", metavar="RUN", help="run folder written by infogan train")
        sub.add_argument("--out", help=f"file to write (default: RUN/{default_out})")
        sub.add_argument("--device", default="auto", choices=DEVICES)
        sub.add_argument("--seed", type=int, default=0, help="seed of the latents drawn")
        sub.set_defaults(handler=handler)
        return sub

    run_command("sample", "sample grid, first categorical code fixed per row", command_sample, "sample.png")
    commands.choices["sample"].add_argument("--columns", type=int, default=10)
    hand_set = commands.choices["sample"].add_argument_group("one image with codes set by hand (noise from --seed)")
    hand_set.add_argument("--cat", type=int, nargs="+", metavar="V", help="value of each categorical code")
    hand_set.add_argument("--cont", type=float, nargs="+", metavar="X", help="each continuous code, in [-2, 2]")
    hand_set.add_argument("--vary-cat", type=int, metavar="I", help="a row over every value of categorical code I")
    traverse = run_command("traverse", "continuous code from -1 to 1", command_traverse, "traverse-contK.png")
    traverse.add_argument("--code", type=int, required=True, help="index K of the continuous code")
    traverse.add_argument("--steps", type=int, default=10)
    interpolate = run_command(
        "interpolate", "interpolate between generated images", command_interpolate, "interpolate.png"
    )
    interpolate.add_argument("--pairs", type=int, default=8)
    interpolate.add_argument("--steps", type=int, default=10)
    encode = run_command("encode", "Q's codes of real images, to CSV", command_encode, "codes.csv")
    encode.add_argument("--data", help="data folder (default: the run's)")
    encode.add_argument("--split", choices=SPLITS, default="test", help="split to encode (one-split sources: all)")
    explore = commands.add_parser("explore", help="a local web page to steer the generator with its codes")
    explore.add_argument("run", metavar="RUN", help="run folder written by infogan train")
    explore.add_argument("--port", type=int, default=8000, help="port to serve on (0: any free port)")
    explore.add_argument("--host", default="127.0.0.1", help="interface to bind (not loopback: needs --allow-remote)")
    explore.add_argument("--allow-remote", action="store_true", help="let --host expose the page (it has no login)")
    explore.add_argument("--device", default="auto", choices=DEVICES)
    explore.set_defaults(handler=command_explore)
    return parser


def main(argv: list[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    try:
        args.handler(args)
    except InfoGANError as error:
        if args.debug:
            raise
        print(f"infogan: error: {error}", file=sys.stderr)
        sys.exit(2)
