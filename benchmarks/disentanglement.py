"""Disentanglement on procedural dSprites: InfoGAN and InfoGAN-CR, several seeds, one fixed step budget.

Trains `--preset dsprites` (plain, and with the contrastive regulariser switched on at --cr-start) for
--steps steps per seed, scores every run with `infogan evaluate --disentanglement` at --scale times the
papers' sample sizes, and prints mean +- std over seeds beside Lin et al. (2020), Table 1.

    python benchmarks/disentanglement.py --steps 80 --seeds 0 --scale 0.1     # what 2 shared CPU cores afforded
    python benchmarks/disentanglement.py --steps 322560 --seeds 0 1 2 3 4 --device cuda \\
        --cr-start 288000 --classifier-steps 57600                                      # the paper's budget
"""

from __future__ import annotations

import argparse
import json
import logging
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

from infogan import load_run, preset_config, train
from infogan.data.dsprites import DSprites
from infogan.metrics.disentanglement_eval import Budget, evaluate_disentanglement
from infogan.metrics.dsprites_shape import train_shape_classifier

# Lin et al. 2020, Table 1 (dSprites): FactorVAE score and MIG; the other scores were not reported there.
PUBLISHED = {
    "InfoGAN (modified), published": {"factor_vae_eval_accuracy": 0.82, "mig": 0.22},
    "InfoGAN-CR, published": {"factor_vae_eval_accuracy": 0.88, "mig": 0.37},
    "FactorVAE (VAE), published": {"factor_vae_eval_accuracy": 0.82, "mig": 0.40},
}
VARIANTS = ("InfoGAN", "InfoGAN-CR")
COLUMNS = {
    "factor_vae_eval_accuracy": "FactorVAE",
    "mig": "MIG",
    "dci_disentanglement": "DCI dis.",
    "sap": "SAP",
    "shape_inception_score": "shape IS",
}


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=150, help="training steps per run (batch 64)")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    parser.add_argument("--device", default="auto", choices=("auto", "cpu", "cuda"))
    parser.add_argument("--cr-weight", type=float, default=2.0, help="alpha of InfoGAN-CR (the authors': 2)")
    parser.add_argument("--cr-start", type=int, help="step at which CR starts (default: half of --steps)")
    parser.add_argument("--variants", nargs="+", choices=VARIANTS, default=list(VARIANTS))
    parser.add_argument("--scale", type=float, default=1.0, help="times the papers' metric sample sizes")
    parser.add_argument(
        "--classifier-steps", type=int, default=Budget.classifier_steps, help="shape classifier's batches"
    )
    parser.add_argument("--out", default="runs/bench-disentanglement", help="folder of the runs and results.json")
    return parser.parse_args()


def summarise(scores: list[dict[str, float]]) -> dict[str, str]:
    return {
        key: f"{np.mean([s[key] for s in scores]):.3f} +- {np.std([s[key] for s in scores]):.3f}" for key in COLUMNS
    }


def main() -> None:
    args = parse_args()
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    out = Path(args.out)
    cr_start = args.steps // 2 if args.cr_start is None else args.cr_start
    overrides_of = {"InfoGAN": {}, "InfoGAN-CR": {"cr_weight": args.cr_weight, "cr_start": cr_start}}
    variants = {name: overrides_of[name] for name in args.variants}
    budget = replace(Budget().scaled(args.scale), classifier_steps=args.classifier_steps)
    sprites = DSprites()
    sprites.load_cache()
    classifier, accuracy = train_shape_classifier(sprites, budget.classifier_steps, device="cpu")
    results: dict[str, list[dict[str, float]]] = {}
    for name, overrides in variants.items():
        for seed in args.seeds:
            run_dir = out / f"{name.lower()}-seed{seed}"
            start = time.perf_counter()
            config = preset_config(
                "dsprites", steps=args.steps, seed=seed, device=args.device, out=str(run_dir), log_every=25, **overrides
            )
            train(config, overwrite=True)
            train_seconds = time.perf_counter() - start
            run = load_run(run_dir, args.device)
            scores = evaluate_disentanglement(run, seed, budget, sprites, classifier.to(run.device))
            scores.update(train_seconds=train_seconds, eval_seconds=time.perf_counter() - start - train_seconds)
            results.setdefault(name, []).append(scores)
            print(json.dumps({"variant": name, "seed": seed, **scores}), flush=True)
    (out / "results.json").write_text(
        json.dumps({"args": vars(args), "shape_classifier_real_accuracy": accuracy, "runs": results}, indent=2)
    )

    print(f"\n{args.steps} steps x batch 64 per run, seeds {args.seeds}, metric sizes x{args.scale}")
    print("| model | " + " | ".join(COLUMNS.values()) + " |")
    print("| --- " * (len(COLUMNS) + 1) + "|")
    for name, scores in results.items():
        row = summarise(scores)
        print(f"| {name}, this run | " + " | ".join(row[key] for key in COLUMNS) + " |")
    for name, published in PUBLISHED.items():
        print(
            f"| {name} | " + " | ".join(f"{published[key]:.2f}" if key in published else "-" for key in COLUMNS) + " |"
        )


if __name__ == "__main__":
    main()
