"""dSprites at a real budget: every scored checkpoint of InfoGAN and InfoGAN-CR runs, with the full-size metrics.

`score` scores checkpoints (RUN/checkpoints/step-NNNNNNNN.pt) with disentanglement_lib's sample sizes and
InfoGAN-CR's shape scores, writing RUN/scores/step-NNNNNNNN.json; a checkpoint already scored is skipped,
so the command resumes, and two processes may score different runs side by side. `report` prints the
table of each run's last scored step (and the median per variant) beside Lin et al. 2020, Table 1, draws
the scores against training steps, and shows the traversals of the best run's codes, each labelled with
the factor it shares the most information with.

    python benchmarks/dsprites_budget.py score runs/dsp/infogan-0 runs/dsp/cr-0 --steps 5000 10000 15000
    python benchmarks/dsprites_budget.py report runs/dsp/* --curves docs/results/img/dsprites-curves.png \\
        --traversals docs/results/img/dsprites-traversals.png
"""

from __future__ import annotations

import argparse
import json
import logging
import statistics
import time
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

from infogan import load_run
from infogan.data.dsprites import FACTOR_NAMES, DSprites
from infogan.files import write_json
from infogan.generate import traversal
from infogan.metrics.disentanglement import discrete_entropy, discretise, mutual_information
from infogan.metrics.disentanglement_eval import Budget, code_representation, evaluate_disentanglement
from infogan.metrics.dsprites_shape import train_shape_classifier
from infogan.visualize import image_grid

# Lin et al. 2020, Table 1 (dSprites, 10+ runs each): FactorVAE score and MIG.
PUBLISHED = {
    "InfoGAN (modified)": {"factor_vae_eval_accuracy": 0.82, "mig": 0.22},
    "InfoGAN-CR": {"factor_vae_eval_accuracy": 0.88, "mig": 0.37},
    "InfoGAN-CR, model-centrality selected": {"factor_vae_eval_accuracy": 0.92, "mig": 0.45},
}
COLUMNS = {
    "factor_vae_eval_accuracy": "FactorVAE",
    "mig": "MIG",
    "dci_disentanglement": "DCI dis.",
    "dci_completeness": "DCI compl.",
    "sap": "SAP",
    "shape_inception_score": "shape IS",
}
PAPER_STEPS = 322_560  # Lin et al.'s dSprites budget: 28 epochs of 11,520 batches of 64


def score_path(run: Path, step: int) -> Path:
    return run / "scores" / f"step-{step:08d}.json"


def score(runs: list[Path], steps: list[int], seed: int) -> None:
    """Score each run's checkpoints at `steps` (those present and not yet scored)."""
    todo = [(run, step) for run in runs for step in steps if not score_path(run, step).exists()]
    todo = [(run, step) for run, step in todo if (run / "checkpoints" / f"step-{step:08d}.pt").exists()]
    if not todo:
        print("nothing to score")
        return
    sprites = DSprites()
    sprites.load_cache()
    budget = Budget()
    classifier, accuracy = train_shape_classifier(sprites, budget.classifier_steps, seed=seed, device="cpu")
    for run_dir, step in todo:
        start = time.perf_counter()
        run = load_run(run_dir, "cpu", f"step-{step:08d}.pt")
        scores = evaluate_disentanglement(run, seed, budget, sprites, classifier)
        scores.update(shape_classifier_real_accuracy=accuracy, score_seconds=time.perf_counter() - start)
        write_json(score_path(run_dir, step), {"step": step, **scores})
        print(json.dumps({"run": str(run_dir), "step": step, **scores}), flush=True)


def variant(run: Path) -> str:
    config = json.loads((run / "config.json").read_text())
    return "InfoGAN-CR" if config["cr_weight"] > 0 else "InfoGAN"


def read_scores(run: Path) -> list[dict]:
    return sorted((json.loads(p.read_text()) for p in (run / "scores").glob("step-*.json")), key=lambda s: s["step"])


def print_table(scored: dict[Path, list[dict]]) -> None:
    header = "| run | steps | " + " | ".join(COLUMNS.values()) + " |"
    print(header + "\n" + "| --- " * (len(COLUMNS) + 2) + "|")
    by_variant: dict[str, list[dict]] = {}
    for run, scores in scored.items():
        last = scores[-1]
        by_variant.setdefault(variant(run), []).append(last)
        print(f"| {run.name} | {last['step']:,} | " + " | ".join(f"{last[k]:.3f}" for k in COLUMNS) + " |")
    for name, lasts in by_variant.items():
        medians = " | ".join(f"{statistics.median(s[k] for s in lasts):.3f}" for k in COLUMNS)
        print(f"| {name}, median of {len(lasts)} | | {medians} |")
    for name, published in PUBLISHED.items():
        cells = " | ".join(f"{published[k]:.2f}" if k in published else "-" for k in COLUMNS)
        print(f"| {name}, published | {PAPER_STEPS:,} | {cells} |")


def draw_curves(scored: dict[Path, list[dict]], path: Path) -> None:
    keys = ("factor_vae_eval_accuracy", "mig", "dci_disentanglement", "sap")
    figure = Figure(figsize=(16, 3.8))
    for axis, key in zip(figure.subplots(1, len(keys)), keys, strict=True):
        for run, scores in scored.items():
            style = "-" if variant(run) == "InfoGAN" else "--"
            axis.plot([s["step"] for s in scores], [s[key] for s in scores], style, marker="o", label=run.name)
        axis.set_title(COLUMNS[key])
        axis.set_xlabel("training step (batch 64)")
        axis.grid(alpha=0.3)
    axis.legend(fontsize=8)
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=80)
    print(f"curves: {path}")


def matched_factors(run_dir: Path, step: int, samples: int = 10_000, seed: int = 0) -> list[tuple[str, float]]:
    """For each continuous code, the factor with the highest MI and that MI over the factor's entropy (MIG's
    normalisation), on `samples` uniform sprites."""
    run = load_run(run_dir, "cpu", f"step-{step:08d}.pt")
    factors, images = DSprites().sample(samples, np.random.default_rng(seed))
    information = mutual_information(discretise(code_representation(run)(images)), factors)  # (codes, factors)
    normalised = information / np.array([discrete_entropy(f) for f in factors.T])
    return [(FACTOR_NAMES[int(row.argmax())], float(row.max())) for row in normalised]


def draw_traversals(run_dir: Path, step: int, path: Path, rows: int = 3) -> None:
    """Rows: codes (each `rows` noise vectors), columns: the code from -1 to 1; labelled with the factor matched."""
    run = load_run(run_dir, "cpu", f"step-{step:08d}.pt")
    labels = matched_factors(run_dir, step)
    figure = Figure(figsize=(8, 1.1 * rows * len(labels)))
    for code, (axis, (factor, share)) in enumerate(zip(figure.subplots(len(labels), 1), labels, strict=True)):
        images, columns = traversal(run.model, code, seed=0)
        axis.imshow(image_grid(images[: rows * columns], columns), cmap="gray")
        axis.set_xticks([])
        axis.set_yticks([])
        axis.set_ylabel(f"c{code + 1}: {factor}\n({share:.2f} of H)", rotation=0, ha="right", va="center")
    figure.suptitle(f"{run_dir.name}, step {step:,}: each code from -1 (left) to 1 (right)")
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=80)
    print(f"traversals: {path} ({', '.join(f'c{i + 1} {f} {s:.2f}' for i, (f, s) in enumerate(labels))})")


def report(runs: list[Path], curves: Path | None, traversals: Path | None) -> None:
    scored = {run: scores for run in runs if (scores := read_scores(run))}
    if not scored:
        raise SystemExit("no scored checkpoints: run `score` first")
    print_table(scored)
    if curves:
        draw_curves(scored, curves)
    if traversals:
        best = max(scored, key=lambda run: scored[run][-1]["factor_vae_eval_accuracy"])
        draw_traversals(best, scored[best][-1]["step"], traversals)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    scoring = commands.add_parser("score", help="score checkpoints with the full-size metrics")
    scoring.add_argument("runs", nargs="+", type=Path)
    scoring.add_argument("--steps", nargs="+", type=int, required=True, help="checkpoint steps to score")
    scoring.add_argument("--seed", type=int, default=0, help="seed of the metrics' draws and the shape classifier")
    reporting = commands.add_parser("report", help="table, curves and traversals of the scored checkpoints")
    reporting.add_argument("runs", nargs="+", type=Path)
    reporting.add_argument("--curves", type=Path, help="PNG of the scores against training steps")
    reporting.add_argument("--traversals", type=Path, help="PNG of the best run's traversals")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    if args.command == "score":
        score(args.runs, args.steps, args.seed)
    else:
        report(args.runs, args.curves, args.traversals)


if __name__ == "__main__":
    main()
