"""The `infogan` command line: parses and resolves options, then calls the Python API.

Every training option comes from TrainConfig's fields, so the flags and the saved config.json can
never drift apart. Errors from bad input print one line and exit with status 2 (--debug shows the
traceback). One module per group of commands: training.py (train, sweep, dsprites), pictures.py
(sample, traverse, interpolate, encode), scoring.py (select, classifier, evaluate, plot) and
explorer.py (explore); options.py holds what they share.
"""

from __future__ import annotations

import argparse
import errno
import logging
import os
import sys

from infogan.cli import explorer, pictures, scoring, training
from infogan.cli.options import Parser, config_from_args, env_rank
from infogan.errors import InfoGANError, TrainingInterrupted

__all__ = ["build_parser", "config_from_args", "main"]


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(prog="infogan", description="Train InfoGAN models and look at their codes.")
    parser.add_argument("--debug", action="store_true", help="show tracebacks instead of one-line errors")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND", title="commands")
    for group in (training, pictures, scoring, explorer):
        group.add_commands(commands)
    return parser


def check_working_folder() -> None:
    """A deleted current folder: Intel MKL, loading with torch, would print one line and end the process
    before any of infogan's code could say what is wrong, so it is checked before torch is imported."""
    try:
        os.getcwd()
    except FileNotFoundError:
        raise InfoGANError(
            "the current folder no longer exists (it was deleted): cd into a folder and run again"
        ) from None


def run(argv: list[str]) -> None:
    """Parse and run one command. A path the file system refuses outright (a name too long for it) is bad
    input like any other, wherever it is first touched: by an --out check, before any work."""
    try:
        args = build_parser().parse_args(argv)
        check_working_folder()
        args.handler(args)
    except OSError as error:
        if error.errno != errno.ENAMETOOLONG:
            raise
        raise InfoGANError(
            f"{error.filename}: a name in this path is too long for the file system: shorten it"
        ) from None


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    level = logging.INFO if env_rank() == 0 else logging.WARNING  # under torchrun rank 0 speaks for all
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    debug = argv[:1] == ["--debug"]  # infogan's own flag goes before the command; after it, it is a mistake
    try:
        run(argv)
    except InfoGANError as error:
        if debug:
            raise
        print(f"infogan: error: {error}", file=sys.stderr)
        sys.exit(2)
    except TrainingInterrupted as stopped:
        print(f"infogan: {stopped}", file=sys.stderr)
        sys.exit(128 + stopped.signal_number)  # the shell's convention for a process stopped by a signal
    except KeyboardInterrupt:  # before training started: nothing to save
        if debug:
            raise
        print("infogan: interrupted before training started; nothing was written", file=sys.stderr)
        sys.exit(130)
