"""End to end through the real command line: train a few steps, resume, sample, traverse,
interpolate and encode, on IDX files the tests make."""

import csv
import json

import pytest
import torch

from infogan.checkpoint import load_checkpoint
from infogan.cli import main


def train_args(mnist_dir, out, *extra):
    return ["train", "--data", str(mnist_dir), "--out", str(out), "--batch-size", "16", "--log-every", "2", *extra]


@pytest.fixture(scope="module")
def run(module_tmp, mnist_dir):
    out = module_tmp("runs") / "run"
    main(train_args(mnist_dir, out, "--steps", "6", "--seed", "3"))
    return out


def test_train_writes_the_run_folder(run):
    config = json.loads((run / "config.json").read_text())
    assert config["steps"] == 6 and config["seed"] == 3 and config["noise"] == 62
    lines = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    steps = [line for line in lines if line["event"] == "step"]
    assert [line["step"] for line in steps] == [2, 4, 6]
    for key in ("loss_d", "loss_g", "mi_cat0", "nll_cont1", "lr_d", "lr_g", "lr_q", "images_per_s"):
        assert key in steps[-1]
    summary = json.loads((run / "summary.json").read_text())
    assert summary["steps"] == 6 and summary["images_seen"] == 96 and summary["images_per_s"] > 0
    assert summary["data_images"] == 160
    assert (run / "samples" / "epoch-0000.png").is_file()
    assert {p.name for p in (run / "traversals").iterdir()} == {"epoch-0000-cont0.png", "epoch-0000-cont1.png"}
    assert load_checkpoint(run / "checkpoints" / "latest.pt")["step"] == 6


def test_sample_traverse_interpolate(run, tmp_path, capsys):
    from PIL import Image

    main(["sample", str(run), "--out", str(tmp_path / "s.png")])
    main(["traverse", str(run), "--code", "1", "--steps", "5"])
    main(["interpolate", str(run), "--pairs", "3", "--steps", "4", "--out", str(tmp_path / "i.png")])
    printed = capsys.readouterr().out.split()
    assert printed == [str(tmp_path / "s.png"), str(run / "traverse-cont1.png"), str(tmp_path / "i.png")]
    sample, traversal = Image.open(tmp_path / "s.png"), Image.open(run / "traverse-cont1.png")
    assert sample.height == 10 * 30 + 2 and sample.width > 10 * 30 + 2  # 10x10 tiles of 28 + 2 px, rows labelled
    assert traversal.height == 10 * 30 + 2 and traversal.width > 5 * 30 + 2
    assert Image.open(tmp_path / "i.png").size == (4 * 30 + 2, 3 * 30 + 2)


def test_vary_cat_needs_no_value_for_the_code_it_varies(run, tmp_path):
    from PIL import Image

    main(["sample", str(run), "--vary-cat", "0", "--cont", "0", "0", "--out", str(tmp_path / "row.png")])
    main(["sample", str(run), "--vary-cat", "0", "--cat", "3", "--cont", "0", "0", "--out", str(tmp_path / "same.png")])
    assert Image.open(tmp_path / "row.png").size == (10 * 30 + 2, 30 + 2)  # one row: the 10 values of cat0
    assert Image.open(tmp_path / "row.png").tobytes() == Image.open(tmp_path / "same.png").tobytes()


def test_encode_writes_codes_per_image(run, tmp_path):
    main(["encode", str(run), "--split", "test", "--out", str(tmp_path / "codes.csv")])
    with open(tmp_path / "codes.csv") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 80
    assert list(rows[0]) == ["index", "file", "label", "class", "cat0", "cont0", "cont1"]
    assert all(0 <= int(r["cat0"]) < 10 and r["label"] != "" for r in rows)
    float(rows[0]["cont1"])


def test_resume_continues_exactly(tmp_path, mnist_dir):
    """N steps + resume + N steps gives the same weights as 2N steps in one go, bit for bit."""
    main(train_args(mnist_dir, tmp_path / "whole", "--steps", "14"))  # crosses an epoch (10 steps)
    main(train_args(mnist_dir, tmp_path / "split", "--steps", "7"))
    main(["train", "--resume", str(tmp_path / "split"), "--steps", "14"])
    whole = load_checkpoint(tmp_path / "whole" / "checkpoints" / "latest.pt")
    split = load_checkpoint(tmp_path / "split" / "checkpoints" / "latest.pt")
    assert split["step"] == 14 and split["epoch"] == whole["epoch"] == 1
    for name, tensor in whole["model"].items():
        assert torch.equal(tensor, split["model"][name]), name


def test_refuses_to_overwrite_a_run(run, mnist_dir, capsys):
    before = (run / "checkpoints" / "latest.pt").read_bytes()
    with pytest.raises(SystemExit) as exit_info:
        main(train_args(mnist_dir, run, "--steps", "2"))
    assert exit_info.value.code == 2
    error = capsys.readouterr().err.strip().splitlines()[-1]
    assert error.startswith("infogan: error:") and "--resume" in error
    assert (run / "checkpoints" / "latest.pt").read_bytes() == before


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["train", "--categorical", "1"], "--categorical sizes must be at least 2"),
        (["train", "--data", "/no/such/folder"], "does not exist"),
        (["sample", "/no/such/run"], "does not exist"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(argv, message, capsys, tmp_path):
    with pytest.raises(SystemExit) as exit_info:
        main([*argv, "--out", str(tmp_path / "x")])
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err


def test_batch_larger_than_data(tmp_path, mnist_dir, capsys):
    with pytest.raises(SystemExit):
        main(train_args(mnist_dir, tmp_path / "r", "--batch-size", "500"))
    assert "larger than the data set" in capsys.readouterr().err


def test_an_infogan_cr_run_with_two_g_steps_resumes_exactly(tmp_path, mnist_dir):
    """The contrastive head's optimizer resumes too (restore once failed on it), past --cr-start."""
    cr = ["--continuous", "2", "--cr-weight", "1", "--cr-start", "3", "--g-steps", "2"]
    main(train_args(mnist_dir, tmp_path / "whole", *cr, "--steps", "6"))
    main(train_args(mnist_dir, tmp_path / "split", *cr, "--steps", "4"))
    main(["train", "--resume", str(tmp_path / "split"), "--steps", "6"])
    whole = load_checkpoint(tmp_path / "whole" / "checkpoints" / "latest.pt")
    split = load_checkpoint(tmp_path / "split" / "checkpoints" / "latest.pt")
    assert split["step"] == 6 and "cr" in split["optimizers"]
    for name, tensor in whole["model"].items():
        assert torch.equal(tensor, split["model"][name]), name
