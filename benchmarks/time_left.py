"""How true training's "time left" is: one short run on a small folder of images, each progress line's
estimate against the time the run really took from there.

    python benchmarks/time_left.py --steps 300 --log-every 10                  # 2,000 random 32x32 photos
    python benchmarks/time_left.py --data /tmp/faces2k --steps 300 --snapshot-every 0   # a snapshot per epoch

Beside the estimate training logs now (the steps left times the session's mean step time), it prints
the one it logged before (the steps left at the last log window's speed, from metrics.jsonl), so the
table shows what the change bought. A 2,000-image folder has 31-step epochs, the setting where the
window's speed swung with every snapshot.
"""

from __future__ import annotations

import argparse
import logging
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

from infogan.config import preset_config
from infogan.files import read_json_lines
from infogan.train import train

LINE = "step %d/%d: %s; %.0f images/s, %s left"  # training_log.Progress's progress line


class Lines(logging.Handler):
    """Each progress line's step, estimate (seconds) and the moment it was logged."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.seen: list[tuple[int, float, float]] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.msg == LINE:
            hours, minutes, seconds = map(int, str(record.args[4]).split(":"))
            self.seen.append((record.args[0], 3600 * hours + 60 * minutes + seconds, time.perf_counter()))


def random_photos(root: Path, count: int) -> Path:
    """`count` random 40x40 RGB JPEGs in two class subfolders: the shape of data, not its content, sets the pace."""
    rng = np.random.default_rng(0)
    for i in range(count):
        folder = root / ("a" if i % 2 else "b")
        folder.mkdir(parents=True, exist_ok=True)
        Image.fromarray(rng.integers(0, 256, (40, 40, 3), dtype=np.uint8)).save(folder / f"{i:05d}.jpg")
    return root


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", help="a folder of images (default: 2,000 random ones, made here)")
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--log-every", type=int, default=10)
    parser.add_argument("--snapshot-every", type=int, help="the run's --snapshot-every (default: the preset's)")
    parser.add_argument("--root", help="where the run goes (default: a temporary folder)")
    args = parser.parse_args()
    root = Path(args.root or tempfile.mkdtemp(prefix="time-left-"))
    data = args.data or str(random_photos(root / "photos", 2000))
    options = {"steps": args.steps, "log_every": args.log_every, "keep_checkpoints": 1, "categorical": (2,)}
    if args.snapshot_every is not None:
        options["snapshot_every"] = args.snapshot_every
    config = preset_config("photos", data_dir=data, out=str(root / "run"), **options)

    logging.basicConfig(level=logging.WARNING)
    lines = Lines()
    logging.getLogger("infogan.training_log").addHandler(lines)
    logging.getLogger("infogan").setLevel(logging.INFO)
    train(config, overwrite=True)
    end = time.perf_counter()

    images_per_step = config.batch_size
    records = read_json_lines(root / "run" / "metrics.jsonl")
    window_speed = {r["step"]: r["images_per_s"] for r in records if r["event"] == "step"}
    rows = []
    print(f"{args.steps} steps of {images_per_step} on {data}, snapshot every {config.snapshot_every} steps")
    print(f"{'step':>6} {'true left':>10} {'estimate':>9} {'ratio':>6}   {'before':>7} {'ratio':>6}")
    for step, estimate, at in lines.seen:
        truth = end - at
        before = (args.steps - step) * images_per_step / window_speed[step]
        rows.append((step, truth, estimate, before))
        ratios = f"{estimate / truth:>6.2f}   {before:>6.0f}s {before / truth:>6.2f}"
        print(f"{step:>6} {truth:>9.0f}s {estimate:>8.0f}s {ratios}")
    late = [row for row in rows if row[0] >= args.steps / 10 and row[1] >= 10]  # after a tenth; 10 s left or more
    for name, column in (("now", 2), ("before", 3)):
        errors = [abs(row[column] / row[1] - 1) for row in late]
        print(
            f"estimate {name:<6}: after a tenth of the run, |error| median {statistics.median(errors):.0%}, "
            f"max {max(errors):.0%} over {len(errors)} lines"
        )


if __name__ == "__main__":
    main()
