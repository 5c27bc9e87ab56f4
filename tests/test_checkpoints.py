"""Checkpoints survive: rotation, crashes mid-write, flipped bytes, signals and diverging losses."""

import importlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from infogan import checkpoint
from infogan.checkpoint import load_checkpoint, save_rotating, saved_steps
from infogan.cli import main
from infogan.errors import InfoGANError

ROOT = Path(__file__).resolve().parents[1]
training = importlib.import_module("infogan.train")  # the package's `train` attribute is the function


def train_args(mnist_dir, out, *extra):
    return ["train", "--data", str(mnist_dir), "--out", str(out), "--batch-size", "16", "--log-every", "2", *extra]


def metrics(run: Path) -> list[dict]:
    return [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]


@pytest.fixture(scope="module")
def run(module_tmp, mnist_dir):
    """6 steps, a checkpoint every 2, the last 2 kept."""
    out = module_tmp("runs") / "run"
    main(train_args(mnist_dir, out, "--steps", "6", "--checkpoint-every", "2", "--keep-checkpoints", "2"))
    return out


def test_keeps_the_last_k_and_latest_is_the_newest(run):
    folder = run / "checkpoints"
    assert [p.name for p in saved_steps(folder)] == ["step-00000004.pt", "step-00000006.pt"]
    assert (folder / "latest.pt").samefile(folder / "step-00000006.pt")
    assert load_checkpoint(folder / "step-00000004.pt")["step"] == 4
    assert [e["step"] for e in metrics(run) if e["event"] == "checkpoint"] == [2, 4, 6]


def test_a_crash_mid_write_leaves_latest_loadable(run, tmp_path, monkeypatch):
    state = load_checkpoint(run / "checkpoints" / "latest.pt")
    state = {key: state[key] for key in checkpoint.KEYS}
    folder = tmp_path / "checkpoints"
    save_rotating(state, folder, keep=3)

    def dies_half_way(obj, handle):  # the disk fills up after half the file
        handle.write(b"PK\x03\x04" + b"\0" * 1000)
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(checkpoint.torch, "save", dies_half_way)
    with pytest.raises(InfoGANError, match=r"No space left.*previous one is kept"):
        save_rotating({**state, "step": 7}, folder, keep=3)
    monkeypatch.undo()
    assert load_checkpoint(folder / "latest.pt")["step"] == 6
    assert sorted(p.name for p in folder.iterdir()) == ["latest.pt", "step-00000006.pt"]  # no partial file left

    def killed(*args):  # killed after the step file, before latest.pt moves
        raise KeyboardInterrupt

    monkeypatch.setattr(checkpoint.os, "replace", killed)
    with pytest.raises(KeyboardInterrupt):
        save_rotating({**state, "step": 8}, folder, keep=3)
    monkeypatch.undo()
    assert load_checkpoint(folder / "latest.pt")["step"] == 6


def test_any_flipped_byte_is_caught_or_harmless(tmp_path):
    """torch.load does not check the zip's CRCs; the checksum catches what it misses (a small state
    of the real schema keeps this fast)."""
    state = {
        "config": {"noise": 62, "categorical": [10]},
        "model": {"w": torch.randn(64, 3), "b": torch.randn(3)},
        "optimizers": {"g": {"state": {0: {"step": torch.tensor(4.0)}}, "param_groups": [{"lr": 0.001}]}},
        "step": 4,
        "epoch": 0,
        "batch_in_epoch": 4,
        "rng": {"torch": torch.get_rng_state(), "latent": [torch.get_rng_state()], "data_epoch": torch.get_rng_state()},
    }
    checkpoint.save_checkpoint(state, tmp_path / "good.pt")
    raw = (tmp_path / "good.pt").read_bytes()
    original = load_checkpoint(tmp_path / "good.pt")
    damaged = tmp_path / "damaged.pt"
    caught = silent_for_torch = 0
    for position in range(0, len(raw), 11):
        flipped = bytearray(raw)
        flipped[position] ^= 0xFF
        damaged.write_bytes(bytes(flipped))
        try:
            loaded = load_checkpoint(damaged)
        except InfoGANError as error:
            assert "damaged.pt" in str(error)
            caught += 1
            try:
                torch.load(damaged, weights_only=True)
                silent_for_torch += 1
            except Exception:
                pass
            continue
        assert loaded["checksum"] == original["checksum"]  # a byte the contents do not depend on
    assert caught > len(raw) // 11 // 3 and silent_for_torch > 0


def nan_from_call(monkeypatch, first_bad: int, last_bad: int):
    """D's loss is NaN on calls first_bad..last_bad (one call per step)."""
    calls = {"n": 0}
    real_loss = training.discriminator_loss

    def loss(*args):
        calls["n"] += 1
        value = real_loss(*args)
        return value * float("nan") if first_bad <= calls["n"] <= last_bad else value

    monkeypatch.setattr(training, "discriminator_loss", loss)


def test_nonfinite_loss_stops_and_keeps_the_last_good_checkpoint(tmp_path, mnist_dir, monkeypatch, capsys):
    nan_from_call(monkeypatch, 5, 10**9)
    with pytest.raises(SystemExit) as exit_info:
        main(train_args(mnist_dir, tmp_path / "r", "--steps", "8", "--checkpoint-every", "2", "--log-every", "10"))
    assert exit_info.value.code == 2
    error = capsys.readouterr().err.strip().splitlines()[-1]
    assert "non-finite" in error and "step-00000004.pt" in error and "--skip-nonfinite" in error
    state = load_checkpoint(tmp_path / "r" / "checkpoints" / "latest.pt")
    assert state["step"] == 4
    assert all(t.isfinite().all() for t in state["model"].values() if t.is_floating_point())


def test_skip_nonfinite_skips_those_updates(tmp_path, mnist_dir, monkeypatch):
    nan_from_call(monkeypatch, 3, 3)
    main(train_args(mnist_dir, tmp_path / "r", "--steps", "6", "--skip-nonfinite"))
    steps = [e for e in metrics(tmp_path / "r") if e["event"] == "step"]
    assert [e.get("skipped_steps", 0) for e in steps] == [0, 1, 0]
    assert all(v == v for e in steps for v in e.values() if isinstance(v, float))  # no NaN logged
    state = load_checkpoint(tmp_path / "r" / "checkpoints" / "latest.pt")
    assert state["step"] == 6
    assert all(t.isfinite().all() for t in state["model"].values() if t.is_floating_point())


def test_skip_nonfinite_that_skips_every_step_says_so(tmp_path, mnist_dir, monkeypatch, capsys):
    """It used to fail with advice to pass --skip-nonfinite, the flag already given."""
    nan_from_call(monkeypatch, 3, 10**9)
    argv = train_args(mnist_dir, tmp_path / "r", "--steps", "8", "--checkpoint-every", "2", "--skip-nonfinite")
    with pytest.raises(SystemExit):
        main(argv)
    error = capsys.readouterr().err.strip().splitlines()[-1]
    assert "--skip-nonfinite skipped every one of the last 2 step(s)" in error, error
    assert "lower learning rates" in error and "step-00000002.pt" in error and "pass --skip-nonfinite" not in error


@pytest.mark.parametrize("rate", ["--lr-g", "--lr-d"])
def test_skip_nonfinite_stops_at_an_update_that_makes_the_weights_nonfinite(rate, tmp_path, mnist_dir, capsys):
    """A finite loss and finite gradients times a huge learning rate: no batch is at fault, so skipping it
    cannot help; the run stops at that update, its last good checkpoint kept."""
    argv = train_args(mnist_dir, tmp_path / "r", "--steps", "4", "--skip-nonfinite", rate, "1e39")
    with pytest.raises(SystemExit):
        main(argv)
    error = capsys.readouterr().err.strip().splitlines()[-1]
    assert "made the weights non-finite (learning rates" in error and "1e+39" in error, error
    assert "no checkpoint was written" in error and "pass --skip-nonfinite" not in error
    assert not (tmp_path / "r" / "checkpoints").exists()


def start_training(mnist_dir, out):
    """A real `python -m infogan train` that would run for long; returns once its loop is running."""
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT / "src"),
        "OMP_NUM_THREADS": "2",
    }  # as conftest sets in-process: exact comparisons need equal threads
    process = subprocess.Popen(
        [sys.executable, "-m", "infogan", *train_args(mnist_dir, out, "--steps", "100000", "--log-every", "1")],
        stderr=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    )
    deadline = time.monotonic() + 120
    while not ((out / "metrics.jsonl").is_file() and (out / "metrics.jsonl").read_text().count('"step"') >= 2):
        assert process.poll() is None and time.monotonic() < deadline, process.communicate()
        time.sleep(0.1)
    return process


@pytest.mark.slow
@pytest.mark.parametrize("sent", [signal.SIGINT, signal.SIGTERM])
def test_a_signal_saves_a_checkpoint_and_resume_is_exact(sent, tmp_path, mnist_dir):
    process = start_training(mnist_dir, tmp_path / "stopped")
    process.send_signal(sent)
    _, err = process.communicate(timeout=120)
    assert process.returncode == 128 + sent, err
    message = err.strip().splitlines()[-1]
    assert f"stopped by {sent.name}" in message and f"--resume {tmp_path / 'stopped'}" in message
    assert "Traceback" not in err
    stopped = load_checkpoint(tmp_path / "stopped" / "checkpoints" / "latest.pt")
    at = stopped["step"]
    assert 2 <= at < 100000

    # resume to at + 3, and compare with an uninterrupted run of at + 3 steps
    main(["train", "--resume", str(tmp_path / "stopped"), "--steps", str(at + 3)])
    main(train_args(mnist_dir, tmp_path / "whole", "--steps", str(at + 3)))
    resumed = load_checkpoint(tmp_path / "stopped" / "checkpoints" / "latest.pt")
    whole = load_checkpoint(tmp_path / "whole" / "checkpoints" / "latest.pt")
    assert resumed["step"] == at + 3
    for name, tensor in whole["model"].items():
        assert torch.equal(tensor, resumed["model"][name]), name


def test_resume_takes_the_new_learning_rate(run, tmp_path):
    import shutil

    shutil.copytree(run, tmp_path / "r")
    main(["train", "--resume", str(tmp_path / "r"), "--steps", "8", "--lr-g", "0.0005"])
    state = load_checkpoint(tmp_path / "r" / "checkpoints" / "latest.pt")
    assert state["optimizers"]["g"]["param_groups"][0]["lr"] == 0.0005
    assert state["optimizers"]["g"]["state"][0]["step"] == 8  # Adam's moments carried on
