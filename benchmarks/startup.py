"""Start-up time of the command line: `infogan --help`, PyTorch's own import, and `infogan sample` up to
loading its run, each the median wall time of fresh processes.

    nice -n 10 python benchmarks/startup.py [--runs 5]

`infogan sample` is timed on a run folder that does not exist: it imports what sampling needs (torch,
the networks), then stops with `infogan: error: ... not found`, so the figure is its start-up alone.
Figures, not asserts: tests/test_startup.py checks the property behind them (no heavy import for help).
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def median_seconds(command: list[str], runs: int) -> float:
    """Median wall time of `runs` fresh processes of `command` (its exit status is not checked)."""
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="processes per figure (default: 5)")
    args = parser.parse_args()
    infogan = [sys.executable, "-m", "infogan"]
    with tempfile.TemporaryDirectory() as empty:
        commands = {
            "infogan --help": [*infogan, "--help"],
            "python -c 'import torch'": [sys.executable, "-c", "import torch"],
            "infogan sample (to loading the run)": [*infogan, "sample", str(Path(empty) / "no-run")],
        }
        figures = {name: median_seconds(command, args.runs) for name, command in commands.items()}
    width = max(map(len, figures))
    for name, seconds in figures.items():
        print(f"{name:<{width}}  {seconds:5.2f} s")
    overhead = figures["infogan sample (to loading the run)"] - figures["python -c 'import torch'"]
    print(f"{'sample beyond torch':<{width}}  {overhead:5.2f} s   (median of {args.runs} runs each)")


if __name__ == "__main__":
    main()
