"""How long `infogan explore` takes to answer a render, as the page sees it: HTTP over loopback.

    python benchmarks/explore_latency.py [--run RUN] [--requests 200] [--device cpu]

Starts the explorer's real server on a free loopback port, sends render requests whose
continuous code sweeps -2..2 as a dragged slider would, and prints the median and 95th percentile
of the round trip and of the server's own time (its Server-Timing header) for one image and for a
grid of every value of the first categorical code. Without --run it trains a 2-step MNIST run in a
temporary folder: the time does not depend on the weights.
"""

from __future__ import annotations

import argparse
import json
import logging
import statistics
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

import torch

from infogan.config import preset_config
from infogan.explore import make_server
from infogan.train import train


def percentile(values: list[float], fraction: float) -> float:
    return sorted(values)[min(len(values) - 1, int(fraction * len(values)))]


def measure(url: str, model: dict, requests: int, vary: int | None) -> tuple[list[float], list[float]]:
    """(round trips, server times) in ms over `requests` renders with cont0 sweeping -2..2."""
    round_trips, server = [], []
    for i in range(requests):
        latent = {"seed": i % 7, "categorical": [0] * len(model["categorical"]), "vary": vary}
        latent["continuous"] = [0.0] * model["continuous"]
        if latent["continuous"]:
            latent["continuous"][0] = round(-2 + 4 * i / max(1, requests - 1), 2)
        body = json.dumps(latent).encode()
        request = urllib.request.Request(url + "api/render", body, {"Content-Type": "application/json"})
        start = time.perf_counter()
        with urllib.request.urlopen(request) as response:
            response.read()
            timing = response.headers["Server-Timing"]
        round_trips.append((time.perf_counter() - start) * 1000)
        server.append(float(timing.split("dur=")[1]))
    return round_trips, server


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--run", help="run folder (default: a 2-step MNIST run in a temporary folder)")
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--device", default="cpu", choices=("cpu", "cuda"))
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    with tempfile.TemporaryDirectory() as scratch:
        run = args.run or train(preset_config("mnist", steps=2, batch_size=16, out=str(Path(scratch) / "run")))
        server = make_server(run, port=0, device=args.device)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        url = f"http://127.0.0.1:{server.port}/"
        with urllib.request.urlopen(url + "api/model") as response:
            model = json.load(response)
        print(f"run {run}, device {args.device}, torch threads {torch.get_num_threads()}, {args.requests} renders each")
        print("| render | round trip median | round trip p95 | server median | server p95 |")
        print("| --- | --- | --- | --- | --- |")
        views = [("one image", None)] + ([("grid of cat0's values", 0)] if model["categorical"] else [])
        for name, vary in views:
            round_trips, server_times = measure(url, model, args.requests, vary)
            print(
                f"| {name} | {statistics.median(round_trips):.1f} ms | {percentile(round_trips, 0.95):.1f} ms "
                f"| {statistics.median(server_times):.1f} ms | {percentile(server_times, 0.95):.1f} ms |"
            )
        server.shutdown()
        server.server_close()


if __name__ == "__main__":
    main()
