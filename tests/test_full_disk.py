"""A full disk or a kill mid-write: every writer keeps the previous file, leaves no temporary file and
says where space ran out; a log torn by a kill is repaired or skipped, never fatal."""

import errno
import importlib
import json
import shutil
from pathlib import Path

import pytest
import torch
from test_bad_input import fails, snapshot

from infogan import files
from infogan.checkpoint import load_checkpoint, save_checkpoint
from infogan.cli import main
from infogan.errors import InfoGANError
from infogan.files import JsonLines, atomic_write, read_json_lines, write_json

training = importlib.import_module("infogan.train")


class FullDisk:
    """A file whose writes fail with ENOSPC once `room` bytes are written, as on a full disk."""

    def __init__(self, handle, room: int):
        self.handle, self.room = handle, room

    def write(self, data):
        if len(data) > self.room:
            self.handle.write(data[: self.room])
            raise OSError(errno.ENOSPC, "No space left on device")
        self.room -= len(data)
        return self.handle.write(data)

    def __getattr__(self, name):
        return getattr(self.handle, name)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.handle.close()


def fill_disk(monkeypatch, room: int = 100) -> None:
    """Every file that infogan.files opens from now on holds at most `room` bytes."""
    monkeypatch.setattr(files, "open", lambda *a, **k: FullDisk(open(*a, **k), room), raising=False)  # noqa: SIM115


def no_part_files(folder: Path) -> bool:
    return not [p for p in folder.rglob("*.part")]


@pytest.fixture(scope="module")
def trained(module_tmp, mnist_dir) -> Path:
    out = module_tmp("full") / "run"
    main(["train", "--data", str(mnist_dir), "--out", str(out), "--batch-size", "16", "--steps", "2"])
    main(["sample", str(out)])
    return out


@pytest.fixture
def run_copy(trained, tmp_path) -> Path:
    shutil.copytree(trained, tmp_path / "run")
    return tmp_path / "run"


@pytest.mark.parametrize("write", ["text", "checkpoint"])
def test_a_full_disk_keeps_the_previous_file(write, tmp_path, monkeypatch):
    path = tmp_path / "out" / "file"
    state = {"w": torch.randn(500)}
    writers = {"text": lambda: write_json(path, {"a": "x" * 1000}), "checkpoint": lambda: save_checkpoint(state, path)}
    writers[write]()
    before = path.read_bytes()
    fill_disk(monkeypatch)  # torch.save turns the ENOSPC into RuntimeError("... unexpected pos ...")
    with pytest.raises(InfoGANError, match=r"^No space left on /\S*: free \d+ MB; writing .*file failed"):
        writers[write]()
    assert path.read_bytes() == before and no_part_files(tmp_path)


def test_torch_reports_a_failed_write_as_runtime_error(tmp_path, monkeypatch):
    save_checkpoint({"w": torch.ones(3)}, tmp_path / "a.pt")

    def fails_like_torch(obj, handle):
        handle.write(b"PK\x03\x04")
        raise RuntimeError("[enforce fail at inline_container.cc:603] . PytorchStreamWriter failed: file write failed")

    monkeypatch.setattr(torch, "save", fails_like_torch)
    with pytest.raises(InfoGANError, match="No space left on"):
        save_checkpoint({"w": torch.zeros(3)}, tmp_path / "a.pt")
    monkeypatch.undo()
    assert torch.equal(load_checkpoint(tmp_path / "a.pt", required=("w",))["w"], torch.ones(3))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.pt"]


def test_a_bug_inside_the_block_is_not_a_write_error(tmp_path):
    with pytest.raises(ZeroDivisionError), atomic_write(tmp_path / "x") as handle:
        handle.write(b"half")
        _ = 1 / 0
    assert list(tmp_path.iterdir()) == []


def test_sample_on_a_full_disk_leaves_no_empty_png(run_copy, monkeypatch, capsys):
    before = snapshot(run_copy)
    fill_disk(monkeypatch)
    fails(["sample", str(run_copy)], capsys, "No space left on", "free", "sample.png failed", "previous one is kept")
    fails(["sample", str(run_copy), "--out", str(run_copy / "new.png")], capsys, "new.png failed")
    fails(["encode", str(run_copy)], capsys, "codes.csv failed")
    fails(["plot", str(run_copy)], capsys, "curves.png failed")
    assert snapshot(run_copy) == before


def test_training_on_a_full_disk_stops_with_one_line(tmp_path, mnist_dir, monkeypatch, capsys):
    saves = {"n": 0}
    real_save = torch.save

    def second_save_fails(obj, handle):  # the first checkpoint fits, the second does not
        saves["n"] += 1
        if saves["n"] == 2:
            handle.write(b"PK" + bytes(1000))
            raise RuntimeError("[enforce fail at inline_container.cc:672] . unexpected pos 704 vs 598")
        real_save(obj, handle)

    monkeypatch.setattr(torch, "save", second_save_fails)
    out = tmp_path / "r"
    argv = ["train", "--data", str(mnist_dir), "--out", str(out), "--batch-size", "16", "--steps", "4"]
    messages = ("No space left on", "step-00000004.pt failed", "kept as latest.pt")
    fails([*argv, "--checkpoint-every", "2"], capsys, *messages)
    assert load_checkpoint(out / "checkpoints" / "latest.pt")["step"] == 2
    assert no_part_files(out) and not (out / ".lock").exists()


def test_a_failed_append_leaves_the_log_whole(tmp_path, monkeypatch):
    log = JsonLines(tmp_path / "metrics.jsonl")
    log.write({"step": 1})
    real_write = files.os.write

    def torn_write(fd, data):
        real_write(fd, data[:5])
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(files.os, "write", torn_write)
    with pytest.raises(InfoGANError, match="No space left on"):
        log.write({"step": 2, "loss": 0.5})
    monkeypatch.undo()
    log.write({"step": 3})
    log.close()
    assert (tmp_path / "metrics.jsonl").read_text() == '{"step": 1}\n{"step": 3}\n'


def test_plot_skips_a_torn_last_line(run_copy, caplog):
    with open(run_copy / "metrics.jsonl", "a") as handle:
        handle.write('{"event": "step", "ste')  # a kill -9 mid-write
    main(["plot", str(run_copy)])
    assert (run_copy / "curves.png").stat().st_size > 0
    assert "skipped 1 torn line(s)" in caplog.text


def test_a_resume_repairs_a_torn_log_and_starts_on_a_fresh_line(run_copy, caplog):
    log = run_copy / "metrics.jsonl"
    whole = log.read_text()
    log.write_text(whole + '{"event": "step", "ste')
    main(["train", "--resume", str(run_copy), "--steps", "4"])
    lines = log.read_text().splitlines()
    assert log.read_text().startswith(whole) and all(isinstance(json.loads(line), dict) for line in lines)
    assert "ended in a torn line" in caplog.text
    assert [r["step"] for r in read_json_lines(log) if r["event"] == "checkpoint"] == [2, 4]


def test_a_whole_last_record_only_gets_its_newline(tmp_path):
    log = tmp_path / "metrics.jsonl"
    log.write_text('{"step": 1}\n{"step": 2}')  # the disk filled up right before the newline
    JsonLines(log).close()
    assert log.read_text() == '{"step": 1}\n{"step": 2}\n'
