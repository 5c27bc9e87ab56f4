"""A markdown table of finished runs: precision, training time, the last clustering ACC training scored
and, with --codes, what each continuous code does (the `codes` metric), for the results pages
(docs/results/precision.md, mnist-codes.md).

Times are the runs' own train_seconds (training steps only) and are comparable only between runs that
trained side by side on the same machine. --codes evaluates each run once and keeps the report in
RUN/codes.json (and the labelled traversals in RUN/codes.png).

    python benchmarks/runs_table.py runs/mnist-fp32-s0 runs/mnist-bf16-s0 ...
    python benchmarks/runs_table.py --codes runs/4cont-bf16-s*
"""

from __future__ import annotations

import argparse
import json
import statistics
from pathlib import Path

from infogan.metrics import evaluate
from infogan.plot import read_metrics
from infogan.run_folder import load_run


def last_accuracy(run: Path) -> tuple[int, float]:
    """The last clustering score training wrote (on the images `infogan evaluate` scores by default, which
    for a one-split source the run trained on): (step, ACC of the first categorical code)."""
    scores = [record for record in read_metrics(run) if record["event"] == "eval"]
    return scores[-1]["step"], scores[-1]["cat0_acc"]


def code_report(run: Path) -> dict:
    """The `codes` metric of the run, computed once and kept in RUN/codes.json."""
    path = run / "codes.json"
    if not path.is_file():
        report = evaluate(load_run(run, "cpu"), ["codes"], out_dir=run)
        path.write_text(report.to_json())
    return json.loads(path.read_text())


def code_cells(report: dict, codes: int) -> list[str]:
    """One cell per code: its strongest property and rho ('width +0.81'), in italics when weak (|rho| < 0.5)."""
    values, cells = report["values"], []
    for code in range(codes):
        rhos = {key.split("_rho_")[1]: v for key, v in values.items() if key.startswith(f"cont{code}_rho_")}
        rhos.pop("chance")
        name = max(rhos, key=lambda p: abs(rhos[p]))
        cell = f"{name} {rhos[name]:+.2f}"
        cells.append(cell if abs(rhos[name]) >= 0.5 else f"*{cell}*")
    return cells


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("runs", nargs="+", type=Path)
    parser.add_argument("--codes", action="store_true", help="also name each continuous code (evaluates once)")
    args = parser.parse_args()

    codes = max(json.loads((run / "config.json").read_text())["continuous"] for run in args.runs) if args.codes else 0
    header = ["run", "precision", "steps", "train s", "images/s", "ACC"]
    header += [f"cont{i}" for i in range(codes)] + (["named"] if codes else [])
    print("| " + " | ".join(header) + " |")
    print("|" + " --- |" * len(header))
    accuracies: dict[str, list[float]] = {}
    for run in args.runs:
        config = json.loads((run / "config.json").read_text())
        summary = json.loads((run / "summary.json").read_text())
        precision = config.get("precision", "bf16" if config.get("amp") else "float32")
        step, accuracy = last_accuracy(run)
        accuracies.setdefault(precision, []).append(accuracy)
        row = [run.name, precision, str(step), f"{summary['train_seconds']:.0f}", f"{summary['images_per_s']:.0f}"]
        row.append(f"{accuracy:.3f}")
        if codes:
            report = code_report(run)
            row += [*code_cells(report, config["continuous"]), f"{report['values']['codes_named']:.0f}"]
        print("| " + " | ".join(row) + " |")
    for precision, values in accuracies.items():
        print(f"median ACC, {precision}: {statistics.median(values):.3f} over {len(values)} run(s)")


if __name__ == "__main__":
    main()
