"""Should inference follow a run's training precision? On a trained run: the clustering ACC of Q's reading of
the labelled test part (a one-split source's fixed 20%, which the run saw unlabelled) in float32 and
under bf16 autocast, and the time to encode those images and to generate
10,000 samples in each (one process, alternating, so the ratio holds on a loaded machine).

    python benchmarks/inference_precision.py runs/mnist-bf16-s0
"""

from __future__ import annotations

import argparse
import contextlib
import time
from pathlib import Path

import numpy as np
import torch

from infogan.data import labelled_splits
from infogan.generate import encode, generate
from infogan.latent import sample_latent
from infogan.metrics.clustering import cluster_accuracy
from infogan.run_folder import load_run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("run", type=Path)
    parser.add_argument("--samples", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()

    run = load_run(args.run, "cpu")
    test_part = labelled_splits(run.config).test
    latent = sample_latent(run.model.spec, args.samples, torch.Generator().manual_seed(0))
    modes = {"float32": contextlib.nullcontext, "bf16": lambda: torch.autocast("cpu", torch.bfloat16)}
    seconds: dict[str, dict[str, list[float]]] = {mode: {"encode": [], "generate": []} for mode in modes}
    accuracy = {}
    for _ in range(args.rounds):
        for mode, context in modes.items():
            with context():
                start = time.perf_counter()
                logits, _ = encode(run.model, test_part.images)
                seconds[mode]["encode"].append(time.perf_counter() - start)
                start = time.perf_counter()
                generate(run.model, latent)
                seconds[mode]["generate"].append(time.perf_counter() - start)
            accuracy[mode] = cluster_accuracy(test_part.labels.numpy(), logits[0].argmax(1).numpy())
    print(f"run {args.run} (trained in {run.config.precision}), {len(test_part)} test images, threads "
          f"{torch.get_num_threads()}")  # fmt: skip
    for mode in modes:
        encode_s, generate_s = (float(np.median(seconds[mode][k])) for k in ("encode", "generate"))
        print(
            f"{mode:8s} ACC {accuracy[mode]:.4f}  encode {encode_s:.2f} s  generate {args.samples} {generate_s:.2f} s"
        )


if __name__ == "__main__":
    main()
