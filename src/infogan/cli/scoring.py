"""`infogan select`, `classifier`, `evaluate` and `plot`: scores of runs and the choice among them."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from infogan.cli.options import (
    add_device,
    checked_out,
    count,
    listing,
    output_file,
    output_path,
    positive_number,
    run_command,
    seed,
)
from infogan.config import DATASETS, SPLITS, TrainConfig
from infogan.files import check_folder, write_text

log = logging.getLogger(__name__)


def command_select(args: argparse.Namespace) -> None:
    from infogan.selection import SELECT_FILE, find_runs, format_selection, select_runs, write_selection

    runs = find_runs(args.runs)
    out = checked_out(args.out or Path(args.runs[0]) / SELECT_FILE, ".json", runs)
    options = {"similarity": args.similarity, "criterion": args.criterion, "codes": args.codes, "votes": args.votes}
    selection = select_runs(runs, args.data, args.split, seed=args.seed, device=args.device, **options)
    out = write_selection(selection, out)
    print(format_selection(selection))
    print(out)


def command_classifier(args: argparse.Namespace) -> None:
    from infogan.metrics import domain_classifier as classifier
    from infogan.networks import resolve_device

    config = TrainConfig(
        dataset=args.dataset, data_dir=args.data, image_size=args.image_size, channels=args.channels
    ).validate()
    path = classifier.classifier_path(classifier.cache_key(config, args.data), args.cache)
    training = args.retrain or not path.is_file()
    check_folder(path.parent, classifier.cache_folder(args.cache)[1], writable=training)  # before training
    if not training:
        trained = classifier.load_classifier(config, args.data, args.cache)
    else:
        device = resolve_device(args.device)
        trained = classifier.train_classifier(config, args.data, args.epochs, seed=args.seed, device=device)
        path = classifier.save_classifier(trained, args.cache)
    print(f"{trained.score_name} {trained.test_score:.4f} on the {trained.split_note}")
    print(path)


def command_evaluate(args: argparse.Namespace) -> None:
    from infogan.metrics import Report, choose_metrics, evaluate, format_report, merged
    from infogan.run_folder import load_run

    metrics = None if args.metrics is None else choose_metrics(args.metrics)  # None: every one that applies
    if args.disentanglement:  # deprecated since the metric registered like the others: kept for one release
        log.warning("--disentanglement is deprecated: name the metric instead, --metrics ...,disentanglement")
        chosen = metrics or choose_metrics(None)  # the scores come last, as they did
        metrics = [name for name in chosen if name != "disentanglement"] + ["disentanglement"]
    out = output_path(args, "evaluation.json")
    check_folder(Path(args.run), "RUN")  # the clustering metric writes its PNGs there
    run = load_run(args.run, args.device)
    options = {"data_dir": args.data, "split": args.split, "samples": args.samples, "seed": args.seed}
    options.update(scale=args.scale, classifier_steps=args.classifier_steps)  # the disentanglement metric's
    out_dir = Path(args.out).parent if args.out else None  # pictures go beside the report
    report = evaluate(run, metrics, classifier_cache=args.classifiers, out_dir=out_dir, **options)
    previous = Report.read(out)
    if previous is not None:  # the same run at the same step: the metrics not asked for now stay
        report = merged(previous, report)
    write_text(out, report.to_json())
    if args.json:
        print(report.to_json(), end="")
    else:
        print(format_report(report))
        print(out)


def command_plot(args: argparse.Namespace) -> None:
    from infogan.plot import plot_run

    print(plot_run(args.run, output_path(args, "curves.png")))


def metrics_listing() -> str:
    """The registered metrics, for `infogan evaluate --help` (the registry imports torch and matplotlib)."""
    from infogan.metrics import METRICS

    return listing("metrics (--metrics):", {metric.name: metric.help for metric in METRICS.values()})


def add_select_command(commands: argparse._SubParsersAction) -> None:
    """select: ModelCentrality over runs."""
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
    select.add_argument(
        "--out", type=output_file, metavar="FILE", help="file to write (default: the first DIR's select.json)"
    )
    select.set_defaults(handler=command_select)


def add_commands(commands: argparse._SubParsersAction) -> None:
    """select, classifier, evaluate and plot."""
    add_select_command(commands)
    classifier = commands.add_parser("classifier", help="train (or show) the cached domain classifier of a data set")
    classifier.add_argument(
        "--dataset", default="mnist", choices=DATASETS, metavar="NAME", help=f"one of {', '.join(DATASETS)}"
    )
    classifier.add_argument("--data", metavar="DIR", help="data folder (default: the data set's standard place)")
    classifier.add_argument("--image-size", type=int, default=28, choices=(28, 32, 64), help="28, 32 or 64")
    classifier.add_argument("--channels", type=int, default=1, choices=(1, 3), help="1 grey, 3 RGB")
    classifier.add_argument(
        "--epochs", type=count(1, 1000), help="passes over the training split (default: 5; CelebA's attributes: 15)"
    )
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
