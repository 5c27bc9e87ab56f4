"""The run folder: --overwrite removes infogan's files only, one training at a time holds it, and a
resume refuses what would not continue the same run."""

import importlib
import json
import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from test_bad_input import fails, snapshot

from infogan.checkpoint import load_checkpoint, save_checkpoint
from infogan.cli import main
from infogan.data.idx import write_idx
from infogan.lock import LOCK

training = importlib.import_module("infogan.train")


def train_args(mnist_dir, out, *extra):
    return ["train", "--data", str(mnist_dir), "--out", str(out), "--batch-size", "16", "--steps", "2", *extra]


@pytest.fixture(scope="module")
def trained(module_tmp, mnist_dir) -> Path:
    out = module_tmp("folder") / "run"
    main(train_args(mnist_dir, out))
    return out


@pytest.fixture
def run_copy(trained, tmp_path) -> Path:
    shutil.copytree(trained, tmp_path / "run")
    return tmp_path / "run"


def users_files(folder: Path) -> dict[str, bytes]:
    """Files of the user's own, in infogan's folders and beside them."""
    made = {"checkpoints/resnet50.ckpt": b"weights", "samples/labels.csv": b"a,b\n", "notes.txt": b"mine"}
    made |= {"traversals/epoch-0001.txt": b"not a png", "config.json.bak": b"{}"}
    for name, data in made.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_bytes(data)
    return made


def test_overwrite_removes_only_infogans_files(run_copy, mnist_dir):
    mine = users_files(run_copy)
    (run_copy / "checkpoints" / "step-00000002.pt.1234.part").write_bytes(b"left by a kill")
    main(train_args(mnist_dir, run_copy, "--overwrite", "--steps", "3"))
    for name, data in mine.items():
        assert (run_copy / name).read_bytes() == data, name
    assert sorted(p.name for p in (run_copy / "checkpoints").iterdir()) == [
        "latest.pt",
        "resnet50.ckpt",
        "step-00000003.pt",
    ]
    assert load_checkpoint(run_copy / "checkpoints" / "latest.pt")["step"] == 3


def test_a_folder_of_the_users_files_is_not_a_run(tmp_path, mnist_dir):
    mine = users_files(tmp_path)
    main(train_args(mnist_dir, tmp_path))  # no --overwrite needed
    assert all((tmp_path / name).read_bytes() == data for name, data in mine.items())
    assert (tmp_path / "config.json").is_file()


def write_lock(run: Path, pid: int, host: str | None = None) -> None:
    (run / LOCK).write_text(json.dumps({"pid": pid, "host": host or socket.gethostname()}))


def test_a_live_lock_is_refused_with_its_holder(run_copy, mnist_dir, capsys):
    holder = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        write_lock(run_copy, holder.pid)
        before = snapshot(run_copy)
        fails(["train", "--resume", str(run_copy), "--steps", "4"], capsys, f"in use by infogan process {holder.pid}")
        fails(train_args(mnist_dir, run_copy, "--overwrite"), capsys, "in use by infogan process", "delete")
        assert snapshot(run_copy) == before
    finally:
        holder.kill()
        holder.wait()
    write_lock(run_copy, 1234, "another-machine")
    fails(["train", "--resume", str(run_copy), "--steps", "4"], capsys, "1234 on another-machine")


def test_a_stale_lock_is_taken_over(run_copy, caplog):
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    write_lock(run_copy, dead.pid)
    main(["train", "--resume", str(run_copy), "--steps", "4"])
    assert "stale lock" in caplog.text and not (run_copy / LOCK).exists()
    (run_copy / LOCK).write_text("")  # torn by a kill between creating and writing it
    main(["train", "--resume", str(run_copy), "--steps", "6"])
    assert load_checkpoint(run_copy / "checkpoints" / "latest.pt")["step"] == 6


def test_the_lock_is_held_while_training(tmp_path, mnist_dir, monkeypatch):
    seen = []
    real = training.write_epoch_images
    monkeypatch.setattr(training, "write_epoch_images", lambda model, run, *a: seen.append((run / LOCK).read_text()))
    main(train_args(mnist_dir, tmp_path / "r"))
    monkeypatch.setattr(training, "write_epoch_images", real)
    assert json.loads(seen[0]) == {"pid": os.getpid(), "host": socket.gethostname()}
    assert not (tmp_path / "r" / LOCK).exists()


def test_resume_into_another_out_is_refused(run_copy, tmp_path, capsys):
    before = snapshot(run_copy)
    fails(["train", "--resume", str(run_copy), "--out", str(tmp_path / "b")], capsys, "--resume continues", "cp -r")
    assert snapshot(run_copy) == before and not (tmp_path / "b").exists()
    main(["train", "--resume", str(run_copy), "--out", str(run_copy), "--steps", "3"])  # the same folder is fine


def test_resume_on_another_batch_size_or_data_size_is_refused(run_copy, tmp_path, mnist_dir, digits, capsys):
    before = snapshot(run_copy)
    fails(["train", "--resume", str(run_copy), "--batch-size", "150"], capsys, "trained with --batch-size 16, not 150")
    smaller = tmp_path / "smaller"
    shutil.copytree(mnist_dir, smaller)
    write_idx(smaller / "train-images-idx3-ubyte.gz", digits[0][:40])
    write_idx(smaller / "train-labels-idx1-ubyte.gz", digits[1][:40].astype(np.uint8))
    resume_smaller = ["train", "--resume", str(run_copy), "--data", str(smaller)]
    fails(resume_smaller, capsys, "trained on 160 images, this data set has 40")
    # a checkpoint from before the data size was recorded: its place in the epoch still refuses
    latest = run_copy / "checkpoints" / "latest.pt"
    state = {k: v for k, v in load_checkpoint(latest).items() if k not in ("format", "checksum", "data_images")}
    latest.unlink()
    save_checkpoint({**state, "batch_in_epoch": 5}, latest)
    before = snapshot(run_copy)
    fails(resume_smaller, capsys, "stopped at batch 5 of an epoch")
    assert snapshot(run_copy) == before


def test_a_deleted_latest_names_the_step_file_to_copy(run_copy, capsys):
    (run_copy / "checkpoints" / "latest.pt").unlink()
    before = snapshot(run_copy)
    fails(["train", "--resume", str(run_copy)], capsys, "copy checkpoints/step-00000002.pt to latest.pt to resume")
    fails(["sample", str(run_copy)], capsys, "not found", "copy checkpoints/step-00000002.pt to latest.pt to use it")
    assert snapshot(run_copy) == before
