"""`infogan sweep` end to end: several seeds side by side, resumed runs, a stop by Ctrl-C, bad input."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
from test_bad_input import fails, snapshot

from infogan.checkpoint import load_checkpoint
from infogan.cli import main

pytestmark = pytest.mark.slow


def sweep_args(mnist_dir: Path, out: Path, *extra: str) -> list[str]:
    tiny = ["--data", str(mnist_dir), "--batch-size", "16", "--log-every", "2"]
    return ["sweep", "--seeds", "3", "--jobs", "2", "--out", str(out), *tiny, *extra]


def weights(run: Path) -> dict[str, torch.Tensor]:
    return load_checkpoint(run / "checkpoints" / "latest.pt")["model"]


def test_three_seeds_two_at_a_time_then_nothing_new(tmp_path, mnist_dir, capsys):
    out = tmp_path / "sweep"
    main(sweep_args(mnist_dir, out, "--steps", "3"))
    record = json.loads((out / "sweep.json").read_text())
    assert record["seeds"] == [0, 1, 2] and record["jobs"] == 2
    assert {run["state"] for run in record["runs"].values()} == {"done"}
    for seed in range(3):
        config = json.loads((out / f"seed-{seed}" / "config.json").read_text())
        assert config["seed"] == seed and json.loads((out / f"seed-{seed}" / "summary.json").read_text())["steps"] == 3
    assert not all(torch.equal(weights(out / "seed-0")[k], v) for k, v in weights(out / "seed-1").items())
    before = {p: p.stat().st_mtime_ns for p in out.rglob("*.pt")}

    main(sweep_args(mnist_dir, out, "--steps", "3"))  # the same command: every run is finished
    assert {p: p.stat().st_mtime_ns for p in out.rglob("*.pt")} == before
    record = json.loads((out / "sweep.json").read_text())
    assert {run["message"] for run in record["runs"].values()} == {"finished earlier"}


def test_a_sweep_stopped_by_ctrl_c_resumes_to_the_uninterrupted_weights(tmp_path, mnist_dir):
    budget = ["--steps", "60", "--checkpoint-every", "5"]
    whole, stopped = tmp_path / "whole", tmp_path / "stopped"
    main(sweep_args(mnist_dir, whole, *budget))

    command = [sys.executable, "-m", "infogan", *sweep_args(mnist_dir, stopped, *budget)]
    process = subprocess.Popen(command, start_new_session=True, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 300
    while not (stopped / "seed-0" / "checkpoints" / "latest.pt").exists() and time.time() < deadline:
        time.sleep(0.2)
    os.killpg(process.pid, signal.SIGINT)  # what a terminal's Ctrl-C does: the sweep and its jobs all get it
    try:
        _, err = process.communicate(timeout=300)
    finally:
        if process.poll() is None:  # never leave a hung sweep behind
            os.killpg(process.pid, signal.SIGKILL)
    assert process.returncode == 130, err
    assert "run the same command again to resume" in err
    states = {run["state"] for run in json.loads((stopped / "sweep.json").read_text())["runs"].values()}
    assert "interrupted" in states and "done" not in states

    main(sweep_args(mnist_dir, stopped, *budget))
    for seed in range(3):
        expected, resumed = weights(whole / f"seed-{seed}"), weights(stopped / f"seed-{seed}")
        assert all(torch.equal(expected[k], resumed[k]) for k in expected), f"seed {seed} drifted"


def test_bad_sweeps_are_refused_without_touching_the_runs(tmp_path, mnist_dir, capsys):
    out = tmp_path / "sweep"
    main(sweep_args(mnist_dir, out, "--steps", "2"))
    before = snapshot(out)
    fails(sweep_args(mnist_dir, out, "--steps", "2", "--noise", "10"), capsys, "seed-0", "--noise 62, not 10", "--out")
    fails([*sweep_args(mnist_dir, out, "--steps", "2"), "--jobs", "0"], capsys, "--jobs")
    fails([*sweep_args(mnist_dir, out, "--steps", "2"), "--seeds", "1", "1"], capsys, "distinct seeds")
    fails([*sweep_args(mnist_dir, out, "--steps", "2"), "--seeds", "0"], capsys, "--seeds N")
    fails(sweep_args(mnist_dir, out / "sweep.json", "--steps", "2"), capsys, "is a file")
    assert snapshot(out) == before
