"""Wall clock of a sweep run side by side against the same runs one after another, in one process.

    python benchmarks/sweep_speed.py --preset fashion-mnist --seeds 4 --steps 300

Both sweeps train the same seeds for the same budget into temporary folders: --jobs 1 (each run
with every core's torch threads) and --jobs J (cores / J threads each). It prints both wall clocks
and their ratio; quote the ratio, since absolute times move with the machine's load.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from infogan.config import preset_config
from infogan.sweep import sweep


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", default="mnist")
    parser.add_argument("--seeds", type=int, default=4, help="runs in each sweep (seeds 0..N-1)")
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--jobs", type=int, default=2, help="jobs of the side-by-side sweep")
    args = parser.parse_args()
    config = preset_config(args.preset, steps=args.steps)
    seconds = {}
    with tempfile.TemporaryDirectory() as root:
        for jobs in (1, args.jobs):
            start = time.perf_counter()
            sweep(config, list(range(args.seeds)), jobs, Path(root) / f"jobs-{jobs}")
            seconds[jobs] = time.perf_counter() - start
    print(f"{args.seeds} runs of {args.preset}, {args.steps} steps each:")
    for jobs, wall in seconds.items():
        print(f"  --jobs {jobs}: {wall:.0f} s")
    print(f"  one after another / side by side: {seconds[1] / seconds[args.jobs]:.2f}x")


if __name__ == "__main__":
    main()
