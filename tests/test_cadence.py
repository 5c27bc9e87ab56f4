"""What follows the steps, and when: snapshots on a cadence that suits small sets and a bounded share
of the time, a time left that holds still, and a summary true to the session it describes."""

import importlib
import json
import logging

import pytest
import torch

from infogan.checkpoint import load_checkpoint
from infogan.cli import main
from infogan.config import TrainConfig
from infogan.run_folder import Position
from infogan.training_log import Progress

training = importlib.import_module("infogan.train")  # the package's `train` attribute is the function


def train_args(mnist_dir, out, *extra):  # 160 digits in batches of 16: 10-step epochs
    return ["train", "--data", str(mnist_dir), "--out", str(out), "--batch-size", "16", "--log-every", "5", *extra]


def records(run, event):
    lines = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    return [line["step"] for line in lines if line["event"] == event]


def test_the_default_cadence_is_stated_and_small_sets_do_not_snapshot_every_epoch():
    assert TrainConfig().snapshot_every == 500 and training.SNAPSHOT_SHARE == 0.1
    config = TrainConfig(snapshot_every=20)

    def at(step, batch, stopping=False, since=None, share=True):
        since = step if since is None else since
        return training.due(config, Position(step, 0, batch, None), 10, 100, stopping, since, share)

    assert not at(10, 10).snapshot and at(10, 10).epoch_end  # an epoch of 10 steps: too soon
    assert at(20, 10).snapshot and not at(25, 5).snapshot  # at an epoch's end, 20 steps on
    assert not at(20, 10, share=False).snapshot  # not while snapshots hold more than their share
    assert at(100, 10, share=False).snapshot and at(7, 7, stopping=True).snapshot  # the run's end, a stop
    assert not at(21, 1).log and not at(10, 10).log and at(20, 10).log  # every snapshot follows a log line


def test_snapshots_wait_while_they_took_more_than_their_share_of_the_time():
    assert training.within_share(0.0, 0, elapsed=1.0)  # the first always may
    assert not training.within_share(1.0, 1, elapsed=15.0)  # 2 s of 15 is over 10%
    assert training.within_share(1.0, 1, elapsed=20.0)


def test_a_run_snapshots_on_the_cadence_and_resumes_exactly_between_snapshots(tmp_path, mnist_dir, monkeypatch):
    monkeypatch.setattr(training, "SNAPSHOT_SHARE", 1e6)  # tiny steps: the share rule would refuse them all
    main(train_args(mnist_dir, tmp_path / "whole", "--steps", "35", "--snapshot-every", "20"))
    run = tmp_path / "whole"
    assert records(run, "checkpoint") == [20, 35] and records(run, "eval") == [20, 35]
    assert records(run, "epoch") == [10, 20, 30, 35]
    assert sorted(p.name for p in (run / "samples").iterdir()) == ["epoch-0002.png", "epoch-0003.png"]

    main(train_args(mnist_dir, tmp_path / "split", "--steps", "13", "--snapshot-every", "20"))
    main(["train", "--resume", str(tmp_path / "split"), "--steps", "35"])
    whole, split = (load_checkpoint(tmp_path / name / "checkpoints" / "latest.pt") for name in ("whole", "split"))
    assert split["step"] == 35 and split["epoch"] == whole["epoch"] == 3
    for name, tensor in whole["model"].items():
        assert torch.equal(tensor, split["model"][name]), name

    summary = json.loads((tmp_path / "split" / "summary.json").read_text())
    assert summary["steps"] == 35 and summary["session_steps"] == 22  # the resumed session's speed
    assert summary["images_per_s"] == pytest.approx(22 * 16 / summary["train_seconds"])


def test_time_left_follows_the_average_step_time_whatever_the_last_window_did(caplog):
    progress = Progress(total=100, initial=0, main=True)
    for seconds in [0.5] * 19 + [0.5]:
        progress.update(seconds)
    with caplog.at_level(logging.INFO):  # the window held a snapshot: a low images/s must not move it
        progress.lines = True
        progress.show({"step": 20, "loss_d": 1.0, "images_per_s": 3.0})
    progress.close()
    assert progress.seconds_left(20) == pytest.approx(40.0)
    assert caplog.records[-1].getMessage() == "step 20/100: loss_d 1.000; 3 images/s, 0:00:40 left"
    for _ in range(40):  # the machine gets busier: steps of 1 s, followed within a twentieth of the run or so
        progress.update(1.0)
    assert progress.seconds_left(60) == pytest.approx(40.0, rel=0.1)
    progress.started -= 1.1 * progress.all_steps_seconds  # the session's snapshots took 10% on top of its steps
    assert progress.seconds_left(60) == pytest.approx(44.0, rel=0.1)
