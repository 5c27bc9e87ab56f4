"""`infogan sweep` end to end: several seeds side by side, resumed runs, a stop by Ctrl-C, bad input."""

import json
import os
import shutil
import signal
import socket
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


@pytest.fixture(scope="module")
def finished(module_tmp, mnist_dir) -> Path:
    """A finished sweep of seeds 0, 1 and 2, two steps each."""
    out = module_tmp("finished") / "sweep"
    main(sweep_args(mnist_dir, out, "--steps", "2"))
    return out


def test_bad_sweeps_are_refused_without_touching_the_runs(finished, mnist_dir, capsys):
    out = finished
    before = snapshot(out)
    fails(sweep_args(mnist_dir, out, "--steps", "2", "--noise", "10"), capsys, "seed-0", "--noise 62, not 10", "--out")
    fails([*sweep_args(mnist_dir, out, "--steps", "2"), "--jobs", "0"], capsys, "--jobs")
    fails([*sweep_args(mnist_dir, out, "--steps", "2"), "--seeds", "1", "1"], capsys, "distinct seeds")
    fails([*sweep_args(mnist_dir, out, "--steps", "2"), "--seeds", "0"], capsys, "--seeds N")
    fails(sweep_args(mnist_dir, out / "sweep.json", "--steps", "2"), capsys, "is a file")
    assert snapshot(out) == before


@pytest.mark.parametrize(
    ("seeds", "message"),
    [
        (["1000000000"], "--seeds N runs seeds 0..N-1, with N from 1 to 1000 (got 1000000000)"),
        ([str(seed) for seed in range(1001)], "--seeds names 1001 seeds: a sweep runs 1 to 1000"),
        (["0", "1", "-1"], "--seeds -1: every seed must lie in 0..4294967295"),
        (["0", str(2**32)], f"--seeds {2**32}: every seed must lie in 0..4294967295"),
    ],
    ids=["a-billion", "1001-seeds", "negative", "2**32"],
)
def test_seeds_are_bounded_and_checked_before_any_run(seeds, message, tmp_path, mnist_dir, capsys):
    """--seeds 1000000000 was a MemoryError; a bad seed failed only after the others had trained."""
    fails([*sweep_args(mnist_dir, tmp_path / "sweep", "--steps", "1"), "--seeds", *seeds], capsys, message)
    assert not (tmp_path / "sweep").exists()


def test_a_file_where_a_run_goes_is_refused_before_any_run(tmp_path, mnist_dir, capsys):
    (tmp_path / "sweep").mkdir()
    (tmp_path / "sweep" / "seed-1").write_text("a file of the user's")
    fails(sweep_args(mnist_dir, tmp_path / "sweep", "--steps", "1"), capsys, "seed-1 is a file", "another --out")
    assert sorted(p.name for p in (tmp_path / "sweep").iterdir()) == ["seed-1"]


def test_one_sweep_per_folder_at_a_time(finished, tmp_path, mnist_dir, capsys, caplog):
    """Two sweeps into one --out both failed, and sweep.json marked a finished run failed."""
    out = tmp_path / "sweep"
    shutil.copytree(finished, out)
    holder = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        (out / ".lock").write_text(json.dumps({"pid": holder.pid, "host": socket.gethostname()}))
        before = snapshot(out)
        fails(sweep_args(mnist_dir, out, "--steps", "2"), capsys, f"{out} is in use by infogan process {holder.pid}")
        assert snapshot(out) == before
    finally:
        holder.kill()
        holder.wait()
    main(sweep_args(mnist_dir, out, "--steps", "2"))  # its holder is gone: the lock is stale
    assert "taking over the stale lock" in caplog.text and not (out / ".lock").exists()


def test_a_sweep_with_other_options_is_refused(finished, tmp_path, mnist_dir, capsys):
    """A rerun with other options counted the old runs as its own and wrote them into sweep.json."""
    out = tmp_path / "sweep"
    shutil.copytree(finished, out)
    before = snapshot(out)
    for flags, shown in (
        (["--steps", "2", "--lr-g", "0.002"], "--lr-g 0.001, not 0.002"),
        (["--steps", "3"], "--steps 2, not 3"),
        (["--steps", "2", "--skip-nonfinite"], "--skip-nonfinite False, not True"),
    ):
        fails(sweep_args(mnist_dir, out, *flags), capsys, f"{out / 'seed-0'} was trained with {shown}", "--out")
    assert snapshot(out) == before
    for seed in range(3):  # the record alone still holds the sweep to its options
        shutil.rmtree(out / f"seed-{seed}")
    fails(sweep_args(mnist_dir, out, "--steps", "2", "--lr-g", "0.002"), capsys, "sweep.json records --lr-g 0.001")


def test_a_sweep_into_a_run_folder_is_refused(finished, mnist_dir, capsys):
    before = snapshot(finished)
    run = finished / "seed-0"
    fails(sweep_args(mnist_dir, run, "--steps", "2"), capsys, f"--out {run} holds a run", "another --out")
    assert snapshot(finished) == before
