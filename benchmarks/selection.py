"""How well label-free selection picks among a sweep's runs: every criterion against the labels.

    python benchmarks/selection.py runs/sweep-fm [--data DIR] [--split test]

For each criterion (ModelCentrality with NMI or ARI, agreement with the consensus partition) it prints
the ACC of the run it selects beside the median, minimum and maximum ACC over the runs, the rank
correlation of the criterion with ACC, and the consensus partition's own ACC. The labels are read
only to score the choices, never to make them.
"""

from __future__ import annotations

import argparse
import statistics

from infogan.selection import select_runs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runs", nargs="+", help="run folders or sweep folders")
    parser.add_argument("--data")
    parser.add_argument("--split", default="test")
    args = parser.parse_args()
    print("| criterion | runs | selected run | its ACC | median ACC (min-max) | Spearman with ACC | consensus ACC |")
    print("|---|---|---|---|---|---|---|")
    for criterion, similarity in (("centrality", "nmi"), ("centrality", "ari"), ("consensus", "nmi")):
        chosen = select_runs(args.runs, args.data, args.split, similarity, criterion)
        accs = [float(row["acc"]) for row in chosen.rows]
        rho = "n/a" if chosen.spearman_acc is None else f"{chosen.spearman_acc:.2f}"
        spread = f"{statistics.median(accs):.3f} ({min(accs):.3f}-{max(accs):.3f})"
        print(
            f"| {criterion} ({similarity}) | {len(accs)} | {chosen.selected} | {accs[0]:.3f} | {spread} | {rho} "
            f"| {chosen.consensus['acc']:.3f} |"
        )
    for row in sorted(chosen.rows, key=lambda row: str(row["run"])):
        print(f"{row['run']}: ACC {float(row['acc']):.3f}, NMI {float(row['nmi']):.3f}")


if __name__ == "__main__":
    main()
