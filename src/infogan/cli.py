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
import math
import os
import shutil
import sys
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
    NETWORKS,
    PRESETS,
    RUN_FOLDER,
    SEED_LIMIT,
    SPLITS,
    TrainConfig,
    flag,
    preset_config,
)
from infogan.errors import InfoGANError, TrainingInterrupted
from infogan.files import atomic_write, write_text

if typing.TYPE_CHECKING:
    from infogan.latent import LatentSpec

# Modules that import torch, matplotlib, scipy, scikit-learn or flask are imported inside the commands
# that use them: `infogan --help` and the parser never wait for them (benchmarks/startup.py).
MAX_COUNT = 100  # columns, steps and pairs of a generated grid: 100 x 100 images is plenty for one PNG
CHOICES = {"dataset": DATASETS, "split": SPLITS, "device": DEVICES, "network": NETWORKS, "compile": COMPILE_MODES}
NOT_FLAGS = ("preset", "version")
log = logging.getLogger(__name__)


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
    """The flags that set field `name` to `value`: --spectral-norm, --no-amp, --categorical 10 10, --lr-d 0.002."""
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
    return listing(f"presets (--preset NAME, default {DEFAULT_PRESET}; flags given override them):", rows)


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


def writable_folder(folder: Path, flag_name: str) -> None:
    """InfoGANError unless `folder` is, or can be made in, a folder this process may write."""
    existing = next(p for p in (folder, *folder.parents) if p.exists())
    if not existing.is_dir():
        raise InfoGANError(f"{flag_name}: cannot write into {folder}, as {existing} is a file")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise InfoGANError(f"{flag_name}: cannot write into {folder}, as {existing} is not writable")


def output_path(args: argparse.Namespace, default_name: str) -> Path:
    """--out, or RUN/default_name, checked before anything is loaded or written: refused unless the
    run exists and it ends in default_name's suffix, when it lies in a file or folder of the run that
    `infogan train` writes (config.json, checkpoints/, samples/...), or when its folder cannot be written."""
    from infogan.run_folder import TRAINING_FILES, existing_run

    run = existing_run(args.run)
    path = args.out or run / default_name
    check_suffix(path, Path(default_name).suffix)
    if path.is_dir():
        raise InfoGANError(f"{path} is a folder: pass --out with the name of the file to write")
    try:
        inside = path.resolve().relative_to(run.resolve()).parts
    except ValueError:  # outside the run
        inside = ()
    if inside and inside[0] in TRAINING_FILES:
        raise InfoGANError(f"--out {path} lies in {run / inside[0]}, which infogan train writes: choose another file")
    writable_folder(path.parent, "--out")
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
    if "out" not in given and args.preset != DEFAULT_PRESET:
        given["out"] = f"runs/{args.preset}"
    return preset_config(args.preset, **given)


def command_train(args: argparse.Namespace) -> None:
    from infogan.train import train

    run = train(config_from_args(args), resume=bool(args.resume), overwrite=args.overwrite)
    if env_rank() == 0:
        for line in run_summary(run):
            log.info(line)
        print(run)


def command_sweep(args: argparse.Namespace) -> None:
    from infogan.sweep import sweep

    seeds = list(range(args.seeds[0])) if len(args.seeds) == 1 else args.seeds
    if len(args.seeds) == 1 and args.seeds[0] < 1:
        raise InfoGANError(f"--seeds N needs N >= 1 (got {args.seeds[0]})")
    config = config_from_args(args)
    root = args.out or f"runs/sweep-{args.preset}"
    sweep(config, seeds, args.jobs, root)
    print(root)


def command_select(args: argparse.Namespace) -> None:
    from infogan.selection import SELECT_FILE, format_selection, select_runs, write_selection

    options = {"similarity": args.similarity, "criterion": args.criterion, "codes": args.codes, "votes": args.votes}
    selection = select_runs(args.runs, args.data, args.split, seed=args.seed, device=args.device, **options)
    out = write_selection(selection, Path(args.out or Path(args.runs[0]) / SELECT_FILE))
    print(format_selection(selection))
    print(out)


def run_summary(run: Path) -> list[str]:
    """What a finished run reached and made, and what to run next: the end of `make demo` and of every run."""
    from infogan.plot import read_metrics

    lines = []
    scores = [record for record in read_metrics(run) if record["event"] == "eval"]
    if scores:
        accuracies = ", ".join(
            f"{key.removesuffix('_acc')} {value:.3f}" for key, value in scores[-1].items() if key.endswith("_acc")
        )
        lines.append(f"held-out clustering ACC at step {scores[-1]['step']}: {accuracies}")
    samples = sorted((run / "samples").glob("epoch-*.png"))
    if samples:
        traversals = sorted((run / "traversals").glob(f"{samples[-1].stem}-cont*.png"))
        lines.append(f"sample grid: {samples[-1]}")
        lines += [f"traversal:   {path}" for path in traversals]
    lines.append(f"next: infogan evaluate {run}   (scores, confusion matrix, each category's members)")
    lines.append(f"      infogan explore {run}    (a local web page to steer the codes)")
    return lines


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
        writer.writerow(["index", "label", *spec.code_names()])
        argmax = [code.argmax(1).tolist() for code in logits]
        for i in range(len(data)):
            label = "" if data.labels is None else int(data.labels[i])
            writer.writerow([i, label, *(codes[i] for codes in argmax), *(f"{v:.6g}" for v in means[i].tolist())])
    print(out)


def command_classifier(args: argparse.Namespace) -> None:
    from infogan.metrics import domain_classifier as classifier
    from infogan.networks import resolve_device

    config = TrainConfig(
        dataset=args.dataset, data_dir=args.data, image_size=args.image_size, channels=args.channels
    ).validate()
    path = classifier.classifier_path(classifier.cache_key(config, args.data), args.cache)
    if path.is_file() and not args.retrain:
        trained = classifier.load_classifier(config, args.data, args.cache)
    else:
        device = resolve_device(args.device)
        trained = classifier.train_classifier(config, args.data, args.epochs, seed=args.seed, device=device)
        path = classifier.save_classifier(trained, args.cache)
    print(f"test accuracy {trained.test_accuracy:.4f} on the {trained.split_note}")
    print(path)


def command_evaluate(args: argparse.Namespace) -> None:
    from infogan.metrics import choose_metrics, evaluate, format_report
    from infogan.run_folder import load_run

    metrics = None if args.metrics is None else choose_metrics(args.metrics)  # None: every one that applies
    if args.disentanglement:  # deprecated since the metric registered like the others: kept for one release
        log.warning("--disentanglement is deprecated: name the metric instead, --metrics ...,disentanglement")
        chosen = metrics or choose_metrics(None)  # the scores come last, as they did
        metrics = [name for name in chosen if name != "disentanglement"] + ["disentanglement"]
    out = output_path(args, "evaluation.json")
    writable_folder(Path(args.run), "RUN")  # the clustering metric writes its PNGs there
    run = load_run(args.run, args.device)
    options = {"data_dir": args.data, "split": args.split, "samples": args.samples, "seed": args.seed}
    options.update(scale=args.scale, classifier_steps=args.classifier_steps)  # the disentanglement metric's
    out_dir = Path(args.out).parent if args.out else None  # pictures go beside the report
    report = evaluate(run, metrics, classifier_cache=args.classifiers, out_dir=out_dir, **options)
    write_text(out, report.to_json())
    if args.json:
        print(report.to_json(), end="")
    else:
        print(format_report(report))
        print(out)


def command_plot(args: argparse.Namespace) -> None:
    from infogan.plot import plot_run

    print(plot_run(args.run, output_path(args, "curves.png")))


def command_dsprites(args: argparse.Namespace) -> None:
    from infogan.data.dsprites import write_npz

    out = args.out
    check_suffix(out, ".npz")
    writable_folder(out.parent, "--out")
    out.parent.mkdir(parents=True, exist_ok=True)
    write_npz(out)
    print(out)


def command_explore(args: argparse.Namespace) -> None:
    from infogan.explore import make_server

    server = make_server(args.run, args.host, args.port, args.allow_remote, args.device, args.trusted_host)
    host = f"[{args.host}]" if ":" in args.host else args.host  # an IPv6 address in a URL
    print(f"exploring {args.run} at http://{host}:{server.port}/ (Ctrl-C stops)", flush=True)
    with contextlib.suppress(KeyboardInterrupt):
        server.serve_forever()
    server.server_close()


def add_device(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--device", default="auto", choices=DEVICES, help="auto: CUDA when present")


def metrics_listing() -> str:
    """The registered metrics, for `infogan evaluate --help` (the registry imports torch and matplotlib)."""
    from infogan.metrics import METRICS

    return listing("metrics (--metrics):", {metric.name: metric.help for metric in METRICS.values()})


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(prog="infogan", description="Train InfoGAN models and look at their codes.")
    parser.add_argument("--debug", action="store_true", help="show tracebacks instead of one-line errors")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND", title="commands")
    add_training_commands(commands)
    add_model_commands(commands)
    add_scoring_commands(commands)
    add_data_commands(commands)
    return parser


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


def add_training_commands(commands: argparse._SubParsersAction) -> None:
    """train, sweep and select."""
    train = commands.add_parser(
        "train",
        help="train a model, writing a run folder",
        usage="%(prog)s [--preset NAME] [--resume RUN | --overwrite] [OPTION ...]",
        description="Train InfoGAN from a preset; every flag given overrides the preset's value.",
        epilog=presets_listing(),
    )
    train.add_argument("--preset", default=DEFAULT_PRESET, choices=PRESETS, metavar="NAME", help="see presets below")
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
    sweep.add_argument("--preset", default=DEFAULT_PRESET, choices=PRESETS, metavar="NAME", help="see presets below")
    jobs = add_config_flags(sweep, skip=("seed", "out"))[RUN_FOLDER]
    jobs.add_argument(
        "--seeds", type=int, nargs="+", required=True, metavar="S", help="N: seeds 0..N-1; several: those"
    )
    jobs.add_argument("--jobs", type=int, default=1, help="runs trained at once")
    jobs.add_argument("--out", metavar="DIR", help="folder of the runs, seed-K each (default: runs/sweep-PRESET)")
    sweep.set_defaults(handler=command_sweep)

    select = commands.add_parser(
        "select",
        help="rank runs without labels (ModelCentrality) and name the one to use",
        description="Rank runs by how well each agrees with the others on the same real\n"
        "images (ModelCentrality, Lin et al. 2020). Labels, where the data has them,\n"
        "only show how well the choice did.",
    )
    select.add_argument("runs", nargs="+", metavar="DIR", help="run folders, or folders of runs (a sweep's --out)")
    select.add_argument("--data", metavar="DIR", help="data folder of the real images compared (default: the runs')")
    select.add_argument("--split", choices=SPLITS, default="test", help="real images compared (one-split data: all)")
    select.add_argument("--similarity", choices=("nmi", "ari"), default="nmi", help="agreement of two partitions")
    select.add_argument(
        "--criterion",
        choices=("centrality", "consensus"),  # selection.CRITERIA, named here so that --help needs no torch
        default="centrality",
        help="mean agreement with the other runs, or agreement with the consensus partition",
    )
    select.add_argument(
        "--codes",
        choices=("auto", "categorical", "continuous"),
        default="auto",
        help="codes compared (auto: categorical when the runs have one)",
    )
    select.add_argument("--votes", type=int, default=300, help="FactorVAE votes per pair of runs (continuous codes)")
    select.add_argument("--seed", type=int, default=0, help="seed of the consensus and of generated images")
    add_device(select)
    select.add_argument("--out", metavar="FILE", help="file to write (default: the first DIR's select.json)")
    select.set_defaults(handler=command_select)


def add_model_commands(commands: argparse._SubParsersAction) -> None:
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
    encode.add_argument("--data", metavar="DIR", help="data folder (default: the run's)")
    encode.add_argument("--split", choices=SPLITS, default="test", help="split to encode (one-split sources: all)")


def add_scoring_commands(commands: argparse._SubParsersAction) -> None:
    """classifier, evaluate and plot."""
    classifier = commands.add_parser("classifier", help="train (or show) the cached domain classifier of a data set")
    classifier.add_argument(
        "--dataset", default="mnist", choices=DATASETS, metavar="NAME", help=f"one of {', '.join(DATASETS)}"
    )
    classifier.add_argument("--data", metavar="DIR", help="data folder (default: the data set's standard place)")
    classifier.add_argument("--image-size", type=int, default=28, choices=(28, 32, 64), help="28, 32 or 64")
    classifier.add_argument("--channels", type=int, default=1, choices=(1, 3), help="1 grey, 3 RGB")
    classifier.add_argument("--epochs", type=count(1, 1000), default=5, help="passes over the training split")
    classifier.add_argument("--seed", type=seed, default=0, help="seed of the weights and batch order")
    add_device(classifier)
    classifier.add_argument(
        "--cache",
        metavar="DIR",
        help="classifier cache (default: $INFOGAN_CLASSIFIERS, else $INFOGAN_CACHE/classifiers)",
    )
    classifier.add_argument("--retrain", action="store_true", help="train again even when one is cached")
    classifier.set_defaults(handler=command_classifier)

    evaluate = run_command(commands, "evaluate", "clustering, L_I, sample quality", command_evaluate, "evaluation.json")
    evaluate.description = "Score a run; pictures (confusion-catI.png, members-catI.png) go beside --out."
    evaluate.epilog_from = metrics_listing
    evaluate.add_argument("--data", metavar="DIR", help="data folder (default: the run's)")
    evaluate.add_argument("--split", choices=SPLITS, default="test", help="real images scored (one-split data: all)")
    evaluate.add_argument("--json", action="store_true", help="print the report as JSON")
    evaluate.add_argument(
        "--metrics",
        metavar="A,B",
        help="comma-separated subset of the metrics below (default: all that apply to the run)",
    )
    evaluate.add_argument(
        "--samples", type=count(10, 100_000), default=10_000, help="generated samples (and real images at most)"
    )
    evaluate.add_argument("--classifiers", metavar="DIR", help="folder of cached domain classifiers")
    evaluate.add_argument(
        "--disentanglement", action="store_true", help="deprecated: the same as naming disentanglement in --metrics"
    )
    evaluate.add_argument("--scale", type=positive_number, default=1.0, help="disentanglement sample sizes x this")
    evaluate.add_argument(
        "--classifier-steps", type=count(1, 1_000_000), help="batches of 64 to train the shape classifier"
    )
    plot = commands.add_parser("plot", help="PNG curves of losses, L_I and accuracy over training")
    plot.add_argument("run", metavar="RUN", help="run folder written by infogan train")
    plot.add_argument("--out", type=output_file, metavar="FILE", help="file to write (default: RUN/curves.png)")
    plot.set_defaults(handler=command_plot)


def add_data_commands(commands: argparse._SubParsersAction) -> None:
    """dsprites and explore."""
    sprites = commands.add_parser("dsprites", help="write the procedural dSprites set in the original file's layout")
    sprites.add_argument(
        "--out", type=output_file, required=True, metavar="FILE.npz", help="file to write (compressed .npz)"
    )
    sprites.set_defaults(handler=command_dsprites)

    explore = commands.add_parser("explore", help="a local web page to steer the generator with its codes")
    explore.add_argument("run", metavar="RUN", help="run folder written by infogan train")
    explore.add_argument("--port", type=count(0, 65535), default=8000, help="port to serve on (0: any free port)")
    explore.add_argument("--host", default="127.0.0.1", help="interface to bind (not loopback: needs --allow-remote)")
    explore.add_argument("--allow-remote", action="store_true", help="let --host expose the page (it has no login)")
    explore.add_argument(
        "--trusted-host",
        action="append",
        default=[],
        metavar="NAME",
        help="another Host name the page may be opened by (repeatable; the default: --host's own names)",
    )
    add_device(explore)
    explore.set_defaults(handler=command_explore)


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    level = logging.INFO if env_rank() == 0 else logging.WARNING  # under torchrun rank 0 speaks for all
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    debug = argv[:1] == ["--debug"]  # infogan's own flag goes before the command; after it, it is a mistake
    try:
        args = build_parser().parse_args(argv)
        args.handler(args)
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
