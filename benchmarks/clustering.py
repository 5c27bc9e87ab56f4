"""Train several seeds of a preset for a fixed budget, evaluate each, print the clustering table.

    python benchmarks/clustering.py --preset mnist --seeds 0 1 2 --steps 2000
    python benchmarks/clustering.py --preset fashion-mnist --seeds 0 1 2 --epochs 2 --set info_trains_trunk=false

Runs go to ROOT/<preset>-s<seed>; --reuse evaluates runs already there (those with summary.json)
instead of training them again. The published figures are printed beside the measured ones.
"""

from __future__ import annotations

import argparse
import json
import logging
import statistics
from pathlib import Path

from infogan.config import preset_config
from infogan.metrics import evaluate
from infogan.run_folder import load_run
from infogan.train import train

PUBLISHED = {
    "mnist": "InfoGAN paper: ACC 0.95 (5% error); ClusterGAN: ACC 0.95, NMI 0.89, ARI 0.89 (README: mean 0.91)",
    "fashion-mnist": "ClusterGAN: ACC 0.63, NMI 0.64, ARI 0.50 (README: mean 0.61 over 10 runs)",
}


def parse_override(text: str) -> tuple[str, object]:
    """key=value with value read as JSON where it parses (numbers, true/false), else as a string."""
    key, _, value = text.partition("=")
    try:
        return key.replace("-", "_"), json.loads(value)
    except json.JSONDecodeError:
        return key.replace("-", "_"), value


def run_seed(args: argparse.Namespace, seed: int, overrides: dict) -> dict[str, float]:
    out = Path(args.root) / f"{args.preset}-s{seed}"
    budget = {"steps": args.steps} if args.steps else {"epochs": args.epochs}
    if not (args.reuse and (out / "summary.json").is_file()):
        train(preset_config(args.preset, seed=seed, out=str(out), **budget, **overrides), overwrite=True)
    metrics = ["clustering", "information"] + ([] if args.no_quality else ["sample_quality"])
    report = evaluate(load_run(out), metrics, samples=args.samples, data_dir=overrides.get("data_dir"))
    for name, reason in report.skipped.items():
        logging.warning("seed %d: %s skipped: %s", seed, name, reason)
    values = report.values
    return {
        "acc": values["cat0_acc"],
        "nmi": values["cat0_nmi"],
        "ari": values["cat0_ari"],
        "mi_ratio": values["mi_cat0"] / values["h_cat0"],
        "fd": values.get("fd", float("nan")),
        "real_fd": values.get("real_fd", float("nan")),
        "steps": json.loads((out / "summary.json").read_text())["steps"],
    }


def table(preset: str, dataset: str, budget: str, seeds: list[int], rows: list[dict]) -> str:
    def median(key: str) -> float:
        return statistics.median(row[key] for row in rows)

    accs = [row["acc"] for row in rows]
    header = "| data set | preset | budget | seeds | ACC median (min-max) | NMI | ARI | L_I/H(c) | FD (real-vs-real) |"
    line = (
        f"| {dataset} | {preset} | {budget} | {len(seeds)} | {median('acc'):.3f} ({min(accs):.3f}-{max(accs):.3f}) "
        f"| {median('nmi'):.3f} | {median('ari'):.3f} | {median('mi_ratio'):.3f} "
        f"| {median('fd'):.2f} ({median('real_fd'):.2f}) |"
    )
    per_seed = ", ".join(f"s{seed}: {row['acc']:.3f}" for seed, row in zip(seeds, rows, strict=True))
    return "\n".join([header, "|" + "---|" * 9, line, f"per seed ACC: {per_seed}", f"published: {PUBLISHED[dataset]}"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", default="mnist")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--steps", type=int, help="budget in optimisation steps (overrides --epochs)")
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--root", default="runs/benchmark-clustering")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="config override")
    parser.add_argument("--samples", type=int, default=10_000, help="generated samples per evaluation")
    parser.add_argument("--reuse", action="store_true", help="evaluate finished runs in ROOT instead of retraining")
    parser.add_argument("--no-quality", action="store_true", help="skip sample quality (no classifier needed)")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    overrides = dict(parse_override(text) for text in args.set)
    rows = [run_seed(args, seed, overrides) for seed in args.seeds]
    dataset = preset_config(args.preset, **overrides).dataset
    budget = f"{rows[0]['steps']} steps x batch {preset_config(args.preset, **overrides).batch_size}"
    print(table(args.preset, dataset, budget, args.seeds, rows))


if __name__ == "__main__":
    main()
