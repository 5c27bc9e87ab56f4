"""Every kind of bad input: one line on stderr, exit status 2, no traceback, nothing overwritten."""

import argparse
import gzip
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from conftest import celeba_attribute_lines, png16, png_header, write_images

from infogan.checkpoint import FORMAT_VERSION, load_checkpoint, save_checkpoint
from infogan.cli import main
from infogan.data import holdout_order
from infogan.data.idx import write_idx
from infogan.errors import InfoGANError


def snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def fails(argv, capsys, *messages) -> str:
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    lines = [line for line in err.strip().splitlines() if not line.startswith(("INFO", "WARNING"))]
    assert len(lines) == 1 and lines[0].startswith("infogan: error:"), err
    assert "Traceback" not in err
    for message in messages:
        assert message in lines[0], lines[0]
    return lines[0]


@pytest.fixture(scope="module")
def existing_run(module_tmp, mnist_dir) -> Path:
    out = module_tmp("existing") / "run"
    main(["train", "--data", str(mnist_dir), "--out", str(out), "--batch-size", "16", "--steps", "2"])
    return out


@pytest.fixture
def run_copy(existing_run, tmp_path) -> Path:
    shutil.copytree(existing_run, tmp_path / "run")
    return tmp_path / "run"


def idx_folder(tmp_path: Path, mnist_dir: Path, name: str, payload: bytes) -> Path:
    """A copy of the MNIST folder whose file `name` holds `payload` instead."""
    folder = tmp_path / "data"
    shutil.copytree(mnist_dir, folder)
    (folder / name).write_bytes(payload)
    return folder


IMAGES = "train-images-idx3-ubyte.gz"
HEADER = bytes([0, 0, 8, 3]) + np.array([4, 28, 28], ">u4").tobytes()


@pytest.mark.parametrize(
    ("make_data", "messages"),
    [
        (lambda tmp, mnist: tmp / "missing", ("does not exist", "--data")),
        (lambda tmp, mnist: (tmp / "empty").mkdir() or tmp / "empty", ("has no train-images-idx3-ubyte",)),
        (
            lambda tmp, mnist: idx_folder(tmp, mnist, IMAGES, gzip.compress(b"\x01\x02\x08\x03" + HEADER[4:])),
            ("bad magic",),
        ),
        (
            lambda tmp, mnist: idx_folder(tmp, mnist, IMAGES, gzip.compress(HEADER + bytes(100))),
            ("truncated or corrupt",),
        ),
        (
            lambda tmp, mnist: idx_folder(tmp, mnist, IMAGES, (mnist / IMAGES).read_bytes()[:-50]),
            ("corrupt or truncated gzip",),
        ),
        (lambda tmp, mnist: idx_folder(tmp, mnist, IMAGES, b"\x1f\x8b" + bytes(30)), ("corrupt or truncated gzip",)),
        (
            lambda tmp, mnist: idx_folder(
                tmp, mnist, "train-labels-idx1-ubyte.gz", gzip.compress(bytes([0, 0, 8, 1, 0, 0, 0, 3, 1, 2, 3]))
            ),
            ("labels for 160 images",),
        ),
    ],
    ids=["missing", "empty", "magic", "dims", "truncated-gzip", "corrupt-gzip", "label-count"],
)
def test_bad_mnist_data_overwrites_nothing(make_data, messages, existing_run, tmp_path, mnist_dir, capsys):
    before = snapshot(existing_run)
    data = make_data(tmp_path, mnist_dir)
    fails(
        ["train", "--data", str(data), "--out", str(existing_run), "--overwrite", "--batch-size", "16"],
        capsys,
        *messages,
    )
    assert snapshot(existing_run) == before


def folder_args(folder: Path, out: Path, *extra) -> list[str]:
    return [
        "train",
        "--dataset",
        "folder",
        "--data",
        str(folder),
        "--out",
        str(out),
        "--image-size",
        "32",
        "--channels",
        "3",
        "--batch-size",
        "4",
        "--steps",
        "1",
        *extra,
    ]


def test_image_folder_errors(tmp_path, capsys):
    fails(folder_args(tmp_path / "none", tmp_path / "r"), capsys, "does not exist")
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "notes.txt").write_text("not an image")
    fails(folder_args(tmp_path / "empty", tmp_path / "r"), capsys, "holds no JPEG/PNG")
    write_images(tmp_path / "imgs", 6, (40, 30), "RGB", ".jpg")
    (tmp_path / "imgs" / "000002.jpg").write_bytes((tmp_path / "imgs" / "000001.jpg").read_bytes()[:200])  # truncated
    (tmp_path / "imgs" / "zz.png").write_text("a text file with an image name")
    fails(folder_args(tmp_path / "imgs", tmp_path / "r"), capsys, "000002.jpg", "--skip-bad-images")
    assert not (tmp_path / "r").exists()


def test_skip_bad_images_warns_with_a_count(tmp_path, caplog):
    write_images(tmp_path / "imgs", 6, (40, 30), "RGB", ".jpg")
    (tmp_path / "imgs" / "000002.jpg").write_bytes(b"\xff\xd8\xff broken")
    main(folder_args(tmp_path / "imgs", tmp_path / "r", "--skip-bad-images"))
    assert "skipped 1 unreadable image(s) of 6" in caplog.text
    assert json.loads((tmp_path / "r" / "summary.json").read_text())["data_images"] == 5


NOT_UTF8 = os.fsdecode(b"caf\xe9.png")  # a valid Linux file name that is not UTF-8


def test_decompression_bombs_and_names_that_are_not_utf8(tmp_path, caplog, capsys):
    """PNGs whose headers declare 10000^2 pixels (Pillow warns) and 20000^2 (Pillow refuses) are refused
    before decoding with one line; a file name that is not UTF-8 is an ordinary file."""
    write_images(tmp_path / "imgs", 6, (40, 30), "RGB", ".png")
    (tmp_path / "imgs" / NOT_UTF8).write_bytes((tmp_path / "imgs" / "000001.png").read_bytes())
    (tmp_path / "imgs" / "big.png").write_bytes(png_header(10000, 10000))
    (tmp_path / "imgs" / "bomb.png").write_bytes(png_header(20000, 20000))
    fails(folder_args(tmp_path / "imgs", tmp_path / "r"), capsys, "big.png (the image is 10000x10000 pixels")
    assert not (tmp_path / "r").exists()
    main(folder_args(tmp_path / "imgs", tmp_path / "r", "--skip-bad-images"))
    assert "skipped 2 unreadable image(s) of 9: big.png (the image is 10000x10000 pixels, more than" in caplog.text
    assert "bomb.png (the image has far more than the 89,478,485 pixels allowed: shrink it)" in caplog.text
    assert json.loads((tmp_path / "r" / "summary.json").read_text())["data_images"] == 7


def test_pillows_bomb_warning_is_not_printed(tmp_path):
    """Pillow's DecompressionBombWarning would add two lines to the one-line error (pytest's own warning
    filters hide it in-process, hence a fresh interpreter)."""
    (tmp_path / "big.png").write_bytes(png_header(10000, 10000))
    code = "import sys; from infogan.data.folder import load_image; load_image(sys.argv[1], 28, 1, None)"
    done = subprocess.run([sys.executable, "-c", code, str(tmp_path / "big.png")], capture_output=True, text=True)
    assert "ImageTooLarge: the image is 10000x10000 pixels" in done.stderr and "Warning" not in done.stderr


def test_celeba_partition_file_errors(tmp_path, capsys):
    write_images(tmp_path / "img_align_celeba", 4, (40, 50), "RGB", ".jpg")
    args = ["train", "--preset", "celeba", "--data", str(tmp_path), "--out", str(tmp_path / "r"), "--steps", "1"]
    (tmp_path / "list_eval_partition.txt").write_bytes(b"000000.jpg 0\n000001.jpg\n")
    fails(
        args, capsys, "list_eval_partition.txt line 2 has 1 field(s), not 2 (`FILE PARTITION`)", "restore CelebA's file"
    )
    (tmp_path / "list_eval_partition.txt").write_bytes(b"\xff\xfe\x00 0\n")
    fails(args, capsys, "list_eval_partition.txt is not a text file")


@pytest.mark.parametrize(
    ("labels", "messages"),
    [
        (np.full(160, -1, np.int8), ("labels from -1 to -1", "0..255")),
        (np.r_[np.zeros(159), np.nan].astype(np.float32), ("float32 labels, not integers",)),
        (np.arange(160, dtype=np.float64), ("float64 labels",)),
        (np.full(160, 300, np.int16), ("labels from 300 to 300",)),
    ],
    ids=["int8-negative", "float-nan", "float-whole", "int16-large"],
)
def test_label_files_are_checked(labels, messages, tmp_path, mnist_dir, capsys):
    folder = tmp_path / "data"
    shutil.copytree(mnist_dir, folder)
    write_idx(folder / "train-labels-idx1-ubyte.gz", labels)
    cache = tmp_path / "classifiers"
    fails(["classifier", "--data", str(folder), "--cache", str(cache), "--epochs", "1"], capsys, *messages)
    assert not cache.exists()


@pytest.mark.parametrize(
    ("argv", "messages"),
    [
        (["sample", "RUN", "--columns", "0"], ("argument --columns: must be a whole number in 1..100 (got '0')",)),
        (["sample", "RUN", "--columns", "-3"], ("argument --columns",)),
        (["sample", "RUN", "--seed", "1e20"], ("argument --seed: must be a whole number in 0..4294967295",)),
        (["sample", "RUN", "--seed", str(10**20)], ("argument --seed",)),
        (["traverse", "RUN", "--code", "0", "--seed", "-1"], ("argument --seed",)),
        (["traverse", "RUN", "--code", "0", "--steps", "0"], ("argument --steps: must be a whole number in 2..100",)),
        (["traverse", "RUN", "--code", "0", "--steps", "-2"], ("argument --steps",)),
        (["traverse", "RUN", "--code", "-1"], ("argument --code",)),
        (["interpolate", "RUN", "--pairs", "-1"], ("argument --pairs",)),
        (["interpolate", "RUN", "--steps", "1"], ("argument --steps",)),
        (["interpolate", "RUN", "--pairs", "1000000"], ("argument --pairs: must be a whole number in 1..100",)),
        (["sample", "RUN", "--out", "DIR"], ("argument --out:", "is a folder")),
        (["sample", "RUN", "--out", "TMP/x.txt"], ("x.txt must end in .png",)),
        (["traverse", "RUN", "--code", "0", "--out", "TMP/t.jpg"], ("t.jpg must end in .png",)),
        (["sample", "RUN", "--out", "FILE/x.png"], ("cannot write into", "is a file")),
        (["sample", "RUN", "--out", "RUN/checkpoints/latest.png"], ("which infogan train writes",)),
        (["sample", "RUN", "--out", "RUN/samples/epoch-0001.png"], ("which infogan train writes",)),
        (["encode", "RUN", "--out", "DIR"], ("is a folder",)),
        (["encode", "RUN", "--out", "TMP/codes.json"], ("must end in .csv",)),
        (["evaluate", "RUN", "--out", "DIR"], ("is a folder",)),
        (["evaluate", "RUN", "--out", "RUN/config.json"], ("which infogan train writes",)),
        (["evaluate", "RUN", "--out", "RUN/summary.json"], ("which infogan train writes",)),
        (["evaluate", "RUN", "--disentanglement", "--scale", "nan"], ("argument --scale: must be a finite number",)),
        (["evaluate", "RUN", "--samples", "5"], ("argument --samples",)),
        (["evaluate", "RUN", "--disentanglement", "--classifier-steps", "0"], ("argument --classifier-steps",)),
        (["plot", "RUN", "--out", "DIR"], ("is a folder",)),
        (["plot", "RUN", "--out", "TMP/curves"], ("must end in .png",)),
        (["dsprites", "--out", "DIR"], ("is a folder",)),
        (["dsprites", "--out", "TMP/sprites.png"], ("must end in .npz",)),
        (["sample", "RUN", "--vary-cat", "5"], ("--vary-cat 5 does not exist", "pass --vary-cat 0")),
        (["sample", "RUN", "--vary-cat", "0", "--cont", "0"], ("--cont takes 2 value(s)", "e.g. --cont 0 0")),
        (["sample", "RUN", "--cat", "1", "2"], ("--cat takes 1 value(s)", "e.g. --cat 0")),
        (["sample", "RUN", "--cat", "1", "2"], ("--cat takes 1 value(s)",)),
        (["sample", "RUN", "--cat", "1", "--cont", "0", "0", "0"], ("--cont takes 2 value(s)", "leave --cont out")),
        (["classifier", "--epochs", "0", "--cache", "TMP"], ("argument --epochs",)),
        (["classifier", "--seed", "-1", "--cache", "TMP"], ("argument --seed",)),
        (["explore", "RUN", "--port", "70000"], ("argument --port",)),
        (["train", "--seed", str(2**40), "--out", "TMP/new"], ("--seed must lie in 0..4294967295",)),
    ],
)
def test_generation_commands_refuse_bad_arguments_before_writing(argv, messages, existing_run, tmp_path, capsys):
    """Each is refused before the run is loaded: the run folder and the folder around keep every byte."""
    (tmp_path / "DIR").mkdir()
    (tmp_path / "FILE").write_text("a file, not a folder")
    places = {"RUN": existing_run, "DIR": tmp_path / "DIR", "FILE": tmp_path / "FILE", "TMP": tmp_path}

    def expand(arg: str) -> str:  # RUN/x -> the run's x, and so on
        head, _, rest = arg.partition("/")
        return str(places[head] / rest) if head in places else arg

    argv = [expand(arg) for arg in argv]
    before, around = snapshot(existing_run), snapshot(tmp_path)
    fails(argv, capsys, *messages)
    assert snapshot(existing_run) == before
    assert snapshot(tmp_path) == around


@pytest.mark.parametrize("mode", ["RGBA", "P", "LA", "I", "CMYK", "1", "I;16"])
def test_image_modes_and_sizes_are_converted(tmp_path, mode):
    from PIL import Image

    from infogan.data.folder import load_folder

    write_images(tmp_path, 2, (50, 20), "RGB", ".png")
    image = Image.open(tmp_path / "000000.png").convert(mode if mode != "I;16" else "I").convert(mode)
    image.save(tmp_path / ("odd.tiff" if mode in ("CMYK", "I", "I;16") else "odd.png"))
    for channels in (1, 3):
        images, _, _ = load_folder(tmp_path, 32, channels)
        assert images.shape == (3, 32, 32, channels) and images.dtype == np.uint8


@pytest.mark.parametrize(
    ("flags", "messages"),
    [
        (["--noise", "-1"], ("--noise must be 0 or more",)),
        (["--categorical", "1"], ("--categorical sizes must be at least 2",)),
        (["--categorical", "0", "10"], ("--categorical sizes must be at least 2",)),
        (["--continuous", "-2"], ("--continuous",)),
        (["--categorical", "--continuous", "0"], ("must give a code",)),
        (["--batch-size", "0"], ("--batch-size must be at least 2",)),
        (["--batch-size", "500"], ("--batch-size 500 (per process) is larger than the data set",)),
        (["--epochs", "0"], ("--epochs",)),
        (["--steps", "-5"], ("--steps",)),
        (["--image-size", "48"], ("--image-size must be 28, 32 or 64",)),
        (["--channels", "2"], ("--channels",)),
        (["--keep-checkpoints", "0"], ("--keep-checkpoints",)),
        (["--lr-g", "nan"], ("--lr-g must be a finite number",)),
        (["--preset", "cifar"], ("invalid choice: 'cifar'", "--preset")),
        (["--dataset", "imagenet"], ("invalid choice: 'imagenet'",)),
        (["--device", "tpu"], ("--device",)),
        (["--batch-size", "many"], ("invalid int value: 'many'",)),
        (["--nosie", "3"], ("unrecognized arguments: --nosie",)),
        (["--seed", str(2**64)], ("--seed must lie in 0..4294967295",)),
        (["--seed", "-1"], ("--seed must lie in 0..4294967295",)),
        (["--noise", "10000000000"], ("--noise with the codes must stay within 10000",)),
        (["--categorical", "100000"], ("--noise with the codes must stay within 10000",)),
        (["--noise-scale", "1e300"], ("--noise-scale must be at most 1000",)),
    ],
)
def test_impossible_options_overwrite_nothing(flags, messages, existing_run, mnist_dir, capsys):
    before = snapshot(existing_run)
    argv = ["train", "--data", str(mnist_dir), "--out", str(existing_run), "--overwrite", *flags]
    fails(argv, capsys, *messages)
    assert snapshot(existing_run) == before


def test_an_existing_run_is_refused(existing_run, mnist_dir, capsys):
    before = snapshot(existing_run)
    fails(["train", "--data", str(mnist_dir), "--out", str(existing_run)], capsys, "already holds a run", "--resume")
    assert snapshot(existing_run) == before


def resume_fails(run: Path, capsys, *messages, extra=()) -> None:
    before = snapshot(run)
    fails(["train", "--resume", str(run), *extra], capsys, *messages)
    assert snapshot(run) == before


def test_corrupt_checkpoints(run_copy, capsys):
    latest = run_copy / "checkpoints" / "latest.pt"
    raw = latest.read_bytes()
    latest.unlink()  # it is a hard link to the step file: break the link before damaging it
    latest.write_bytes(raw[: len(raw) // 2])
    resume_fails(run_copy, capsys, "latest.pt is corrupt")
    fails(["sample", str(run_copy)], capsys, "latest.pt is corrupt")
    latest.write_bytes(b"\x00" * 64)
    resume_fails(run_copy, capsys, "latest.pt is corrupt")
    torch.save([1, 2, 3], latest)
    resume_fails(run_copy, capsys, "is not an infogan checkpoint")
    state = load_checkpoint(run_copy / "checkpoints" / "step-00000002.pt")
    name = next(k for k, v in state["model"].items() if v.is_floating_point())
    state["model"][name] = state["model"][name] + 1  # contents changed, checksum kept
    torch.save(state, latest)
    resume_fails(run_copy, capsys, "checksum does not match")


def test_older_checkpoint_is_suggested_when_latest_is_corrupt(run_copy, capsys, mnist_dir):
    main(["train", "--resume", str(run_copy), "--steps", "4"])  # step-2 and step-4 kept
    latest = run_copy / "checkpoints" / "latest.pt"
    latest.unlink()
    latest.write_bytes(b"garbage")
    resume_fails(run_copy, capsys, "corrupt", "copy checkpoints/step-00000004.pt to latest.pt")


def test_checkpoint_from_a_newer_format(run_copy, capsys):
    state = load_checkpoint(run_copy / "checkpoints" / "latest.pt")
    latest = run_copy / "checkpoints" / "latest.pt"
    latest.unlink()
    torch.save({**state, "format": FORMAT_VERSION + 1}, latest)
    resume_fails(run_copy, capsys, f"has format {FORMAT_VERSION + 1}, newer than", "upgrade infogan")
    fails(["sample", str(run_copy)], capsys, "newer than")


def test_checkpoint_from_an_incompatible_config(run_copy, capsys):
    resume_fails(run_copy, capsys, "trained with --noise 62, not 10", extra=["--noise", "10"])
    # a checkpoint of another run (other networks) copied into this one
    state = load_checkpoint(run_copy / "checkpoints" / "latest.pt")
    state = {k: v for k, v in state.items() if k not in ("format", "checksum")}
    state["config"] = {**state["config"], "continuous": 3}
    latest = run_copy / "checkpoints" / "latest.pt"
    latest.unlink()
    save_checkpoint(state, latest)
    resume_fails(run_copy, capsys, "trained with --continuous 3, not 2")
    state["config"]["continuous"] = 2
    state["model"] = {k: v for k, v in state["model"].items() if not k.startswith("q_head")}
    latest.unlink()
    save_checkpoint(state, latest)
    resume_fails(run_copy, capsys, "does not fit the model")
    fails(["sample", str(run_copy)], capsys, "does not fit the model")


def test_hand_edited_config_json(run_copy, capsys):
    config = json.loads((run_copy / "config.json").read_text())
    (run_copy / "config.json").write_text(json.dumps({**config, "noise": "62"}))
    resume_fails(run_copy, capsys, "--noise must be an integer (got '62')")
    (run_copy / "config.json").write_text("{not json")
    resume_fails(run_copy, capsys, "config.json is not valid JSON")


def test_resume_needs_a_checkpoint(tmp_path, capsys):
    (tmp_path / "config.json").write_text("{}")
    fails(["train", "--resume", str(tmp_path)], capsys, "no checkpoints/latest.pt to resume from")
    fails(["train", "--resume", str(tmp_path), "--overwrite"], capsys, "not allowed with argument --resume")


def test_debug_shows_the_traceback(tmp_path):
    with pytest.raises(InfoGANError):
        main(["--debug", "train", "--noise", "-1", "--out", str(tmp_path / "r")])


def test_debug_after_the_command_is_a_usage_mistake(tmp_path, capsys):
    fails(["sample", str(tmp_path), "--debug"], capsys, "unrecognized arguments: --debug")


@pytest.mark.parametrize("content", ["null", "[1, 2]", '"hello"', "3"])
def test_config_json_that_is_not_an_object(content, run_copy, capsys):
    (run_copy / "config.json").write_text(content)
    resume_fails(run_copy, capsys, "config.json must hold a JSON object of options", "restore it")


def test_out_that_is_a_file_or_unwritable(tmp_path, mnist_dir, capsys):
    (tmp_path / "file").write_text("mine")
    base = ["train", "--data", str(mnist_dir), "--batch-size", "16", "--steps", "1"]
    fails([*base, "--out", str(tmp_path / "file")], capsys, "is a file, not a folder")
    fails([*base, "--out", str(tmp_path / "file" / "run")], capsys, "cannot make the folder --out", "another --out")
    fails([*base, "--out", "/sys/infogan-run"], capsys, "cannot make the folder --out")  # refused even to root
    fails([*base, "--out", "/sys"], capsys, "cannot write in /sys", "choose another --out")
    assert (tmp_path / "file").read_text() == "mine"


def test_seed_of_the_generating_commands(existing_run, capsys):
    before = snapshot(existing_run)
    message = "argument --seed: must be a whole number in 0..4294967295"
    fails(["sample", str(existing_run), "--seed", str(2**64)], capsys, message)
    fails(["traverse", str(existing_run), "--code", "0", "--seed", "x"], capsys, message)
    assert snapshot(existing_run) == before


def test_divergence_before_any_checkpoint_says_to_start_again(tmp_path, mnist_dir, monkeypatch, capsys):
    import importlib

    training = importlib.import_module("infogan.train")
    real = training.discriminator_loss
    monkeypatch.setattr(training, "discriminator_loss", lambda *args: real(*args) * float("nan"))
    out = tmp_path / "r"
    argv = ["train", "--data", str(mnist_dir), "--out", str(out), "--batch-size", "16", "--steps", "4"]
    line = fails([*argv, "--log-every", "2"], capsys, "non-finite", "no checkpoint was written", "--overwrite")
    assert "--resume" not in line


def test_empty_and_damaged_checkpoints_name_the_file(run_copy, tmp_path, capsys):
    """A 0-byte latest.pt is what an interrupted copy or a full disk leaves: one line for every reader."""
    latest = run_copy / "checkpoints" / "latest.pt"
    latest.unlink()
    latest.touch()
    resume_fails(run_copy, capsys, "latest.pt is empty (0 bytes", "copy checkpoints/step-00000002.pt to latest.pt")
    fails(["sample", str(run_copy)], capsys, "latest.pt is empty", "copy checkpoints/step-00000002.pt")
    fails(["evaluate", str(run_copy), "--out", str(tmp_path / "e.json")], capsys, "latest.pt is empty")


CLASSIFIER = "mnist-embedded-28px1c.pt"  # the cache name of the embedded digits' classifier


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (b"", "is empty (0 bytes"),
        (b"garbage", "is corrupt ("),
        (
            lambda path: torch.save({"a": argparse.Namespace(x=1)}, path),
            "holds Python objects (argparse.Namespace) besides tensors",
        ),
        (lambda path: torch.save({"format": 2, "checksum": "x"}, path), "is incomplete (no network"),
    ],
    ids=["zero-bytes", "garbage", "pickled-object", "not-a-classifier"],
)
def test_a_damaged_cached_classifier_says_to_retrain(content, problem, tmp_path, capsys):
    """Never torch's own advice (weights_only=False runs the file's code): the command that replaces the file."""
    cache = tmp_path / "classifiers"
    cache.mkdir()
    path = cache / CLASSIFIER
    content(path) if callable(content) else path.write_bytes(content)
    line = fails(["classifier", "--cache", str(cache)], capsys, problem)
    command = f"infogan classifier --dataset mnist --image-size 28 --channels 1 --cache {cache} --retrain"
    assert f"train it again with `{command}`" in line
    assert "weights_only" not in line and "\x1b" not in line


def test_evaluate_skips_a_damaged_classifier_saying_how_to_retrain(existing_run, tmp_path, capsys):
    from infogan.config import TrainConfig
    from infogan.metrics.domain_classifier import cache_key

    config = TrainConfig.load(existing_run / "config.json")
    (tmp_path / f"{cache_key(config)}.pt").write_bytes(b"")
    out = tmp_path / "e.json"
    argv = ["evaluate", str(existing_run), "--classifiers", str(tmp_path), "--metrics", "sample_quality"]
    main([*argv, "--samples", "10", "--out", str(out)])
    reason = json.loads(out.read_text())["skipped"]["sample_quality"]
    data = Path(config.data_dir).resolve()
    assert (
        "is empty (0 bytes" in reason
        and f"--data {data} --image-size 28 --channels 1 --cache {tmp_path} --retrain`" in reason
    )


@pytest.mark.parametrize("damage", ["zero-bytes", "garbage", "truncated", "other-arrays"])
def test_a_damaged_folder_cache_is_decoded_again_with_a_warning(damage, tmp_path, caplog):
    from infogan.cache import cache_dir
    from infogan.data.folder import cache_key, list_images, load_folder

    write_images(tmp_path / "imgs", 3, (40, 30))
    first, _, _ = load_folder(tmp_path / "imgs", 16, 3)
    cache = cache_dir("folders") / f"{cache_key(list_images(tmp_path / 'imgs'), 16, 3, None)}.npz"
    if damage == "other-arrays":  # a valid file that does not fit: it would be wrong images, not an error
        np.savez(cache, images=np.zeros((3, 8, 8, 3), np.uint8), kept=np.ones(3, bool))
    else:
        cache.write_bytes({"zero-bytes": b"", "garbage": b"PK\x03\x04 garbage"}.get(damage, cache.read_bytes()[:300]))
    images, _, _ = load_folder(tmp_path / "imgs", 16, 3)
    assert np.array_equal(images, first)
    assert "do not load" in caplog.text and "decoding the images again" in caplog.text
    caplog.clear()
    assert np.array_equal(load_folder(tmp_path / "imgs", 16, 3)[0], first) and "do not load" not in caplog.text


def test_cache_settings_that_lead_to_a_file_are_refused_before_any_work(tmp_path, monkeypatch, capsys, caplog):
    (tmp_path / "file").write_text("not a folder")
    write_images(tmp_path / "imgs", 6, (40, 30))
    monkeypatch.setenv("INFOGAN_CACHE", str(tmp_path / "file"))
    fails(folder_args(tmp_path / "imgs", tmp_path / "r"), capsys, "INFOGAN_CACHE", "is a file")
    fails(["classifier", "--epochs", "1"], capsys, "INFOGAN_CACHE", "is a file")
    monkeypatch.delenv("INFOGAN_CACHE")
    fails(["classifier", "--epochs", "1", "--cache", str(tmp_path / "file")], capsys, "--cache", "is a file")
    monkeypatch.setenv("INFOGAN_CLASSIFIERS", str(tmp_path / "file"))
    fails(["classifier", "--epochs", "1"], capsys, "INFOGAN_CLASSIFIERS", "is a file")
    assert "classifier epoch" not in caplog.text and not (tmp_path / "r").exists()


def test_a_config_json_nested_too_deeply(run_copy, capsys):
    (run_copy / "config.json").write_text("[" * 100_000 + "]" * 100_000)
    resume_fails(run_copy, capsys, "config.json is not valid JSON (nested too deeply)", "restore it")


def test_names_too_long_for_the_file_system(existing_run, mnist_dir, tmp_path, capsys):
    long = tmp_path / ("a" * 300)
    fails(["train", "--data", str(mnist_dir), "--out", str(long)], capsys, "too long for the file system")
    fails(["sample", str(existing_run), "--out", f"{long}.png"], capsys, "too long for the file system")
    fails(["train", "--dataset", "folder", "--data", str(long), "--out", str(tmp_path / "r")], capsys, "too long")
    assert sorted(tmp_path.iterdir()) == []


def test_a_deleted_current_folder(tmp_path):
    """MKL, loading with torch, would print `cannot load libtorch_cpu.so` and end the process: refused first."""
    (tmp_path / "gone").mkdir()
    script = (
        "import os, sys; os.chdir(sys.argv[1]); os.rmdir(sys.argv[1]); from infogan.cli import main; main(sys.argv[2:])"
    )
    argv = [sys.executable, "-c", script, str(tmp_path / "gone"), "train", "--out", str(tmp_path / "r")]
    done = subprocess.run(argv, capture_output=True, text=True)
    assert done.returncode == 2 and done.stderr.splitlines() == [
        "infogan: error: the current folder no longer exists (it was deleted): cd into a folder and run again"
    ], done.stderr


ORIENTED = {  # EXIF Orientation -> the transpose that shows the stored pixels upright, as viewers do
    2: "FLIP_LEFT_RIGHT",
    3: "ROTATE_180",
    4: "FLIP_TOP_BOTTOM",
    5: "TRANSPOSE",
    6: "ROTATE_270",
    7: "TRANSVERSE",
    8: "ROTATE_90",
}


@pytest.mark.parametrize(("suffix", "orientation"), [(".jpg", 6)] + [(".png", k) for k in ORIENTED])
def test_exif_orientation_is_applied(suffix, orientation, tmp_path):
    """A phone stores a portrait photo sideways with EXIF Orientation 6; it must not train sideways."""
    from PIL import Image

    from infogan.data.folder import load_folder

    exif = Image.Exif()
    exif[0x0112] = orientation
    pixels = np.random.default_rng(orientation).integers(0, 256, (32, 32, 3), dtype=np.uint8)
    Image.fromarray(pixels).save(tmp_path / f"photo{suffix}", exif=exif)
    with Image.open(tmp_path / f"photo{suffix}") as stored:  # the pixels as stored (JPEG: as decoded)
        upright = np.asarray(stored.convert("RGB").transpose(getattr(Image.Transpose, ORIENTED[orientation])))
    images, _, _ = load_folder(tmp_path, 32, 3)
    assert np.array_equal(images[0], upright)


@pytest.mark.parametrize(
    ("mode", "suffix"),
    [
        ("I;16", ".png"),
        ("I;16", ".tif"),
        ("I;16B", ".tif"),
        ("I;16L", ".tif"),
        ("LA;16", ".png"),  # Pillow reads 16-bit colour PNGs by the high byte already
        ("RGB;16", ".png"),
        ("RGBA;16", ".png"),
    ],
)
def test_sixteen_bit_images_are_scaled_not_clipped(mode, suffix, tmp_path):
    """Mid-grey, 32768 of 65535, reads as 128, not as white."""
    from PIL import Image

    from infogan.data.folder import load_folder

    if mode.startswith("I;16"):
        values = np.full((8, 8), 32768, ">u2" if mode == "I;16B" else "<u2")
        Image.frombytes(mode, (8, 8), values.tobytes()).save(tmp_path / f"grey{suffix}")
    else:  # Pillow writes no 16-bit colour PNG
        (tmp_path / "grey.png").write_bytes(png16(8, 8, {"LA;16": 2, "RGB;16": 3, "RGBA;16": 4}[mode], 32768))
    for channels in (1, 3):
        images, _, _ = load_folder(tmp_path, 8, channels)
        assert images.shape == (1, 8, 8, channels) and (images == 128).all(), np.unique(images)


def test_a_32_bit_image_beyond_0_255_is_refused_not_clipped(tmp_path, capsys):
    from PIL import Image

    write_images(tmp_path / "imgs", 4, (40, 30))
    Image.fromarray(np.full((8, 8), 40000, np.int32)).save(tmp_path / "imgs" / "deep.tif")
    message = "deep.tif (a 32-bit image with values from 40000 to 40000"
    fails(folder_args(tmp_path / "imgs", tmp_path / "r"), capsys, message, "8 or 16 bits", "--skip-bad-images")


@pytest.mark.parametrize("size", [(1, 40_000), (40_000, 1)])
def test_long_thin_images_are_refused_before_decoding(size, tmp_path, capsys):
    """Pillow's cost grows with the rows: four 1 x 80M-pixel PNGs of 155 KB took 4.45 GB and 17 s."""
    from PIL import Image

    write_images(tmp_path / "imgs", 4, (40, 30))
    Image.new("L", size).save(tmp_path / "imgs" / "thin.png")
    shown = f"thin.png (the image is {size[0]}x{size[1]} pixels, more than the 89,478,485 pixels and 32768 on a side"
    fails(folder_args(tmp_path / "imgs", tmp_path / "r"), capsys, shown)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "list_eval_partition.txt is empty: restore CelebA's file, or delete it"),
        (b"\n  \n", "list_eval_partition.txt is empty"),
        (b"\xef\xbb\xbf", "list_eval_partition.txt is empty"),
        (b"999999.jpg 0\n999998.jpg 2\n", "names none of the 4 images in"),
        (b"000000.jpg 2\n000001.jpg 2\n", "names no image for split train (partition 0)"),
        (b"000000.jpg 0\n000001.jpg 3\n", "line 2 has partition '3', not 0 (train), 1 (valid) or 2 (test)"),
        (b"000000.jpg train\n", "line 1 has partition 'train'"),
    ],
    ids=["empty", "blank", "only-a-bom", "absent-files", "no-train-rows", "split-3", "split-word"],
)
def test_celeba_partition_files_that_name_no_usable_image(content, message, tmp_path, capsys):
    """Each used to end in "no image in the folder could be read", which blamed the images."""
    write_images(tmp_path / "img_align_celeba", 4, (40, 50), "RGB", ".jpg")
    (tmp_path / "list_eval_partition.txt").write_bytes(content)
    args = ["train", "--preset", "celeba", "--data", str(tmp_path), "--out", str(tmp_path / "r"), "--steps", "1"]
    fails(args, capsys, "list_eval_partition.txt", message)


def test_a_celeba_partition_file_naming_missing_images(tmp_path, capsys):
    write_images(tmp_path / "img_align_celeba", 4, (40, 50), "RGB", ".jpg")
    (tmp_path / "list_eval_partition.txt").write_text("000000.jpg 0\n000001.jpg 0\n000002.jpg 2\n777777.jpg 2\n")
    args = ["train", "--preset", "celeba", "--data", str(tmp_path), "--out", str(tmp_path / "r"), "--steps", "1"]
    fails(args, capsys, "list_eval_partition.txt names 1 image(s) missing from", "(first: 777777.jpg)", "restore them")
    assert not (tmp_path / "r").exists()


def celeba_attribute_errors() -> list:
    """(how list_attr_celeba.txt's lines are spoilt, what the error says) for a folder of 8 images."""
    held = f"{holdout_order(8)[0][0]:06d}.jpg"  # an image of the test part: a training run must refuse it too

    def short_line(lines):
        lines[3] = lines[3].rsplit(" ", 1)[0]

    def no_line(lines):
        lines.remove(next(line for line in lines if line.startswith(held)))

    def value(text):
        def spoil(lines):
            lines[2] = lines[2].split()[0] + f" {text}" + " -1" * 39

        return spoil

    fix = "or delete it to train without attributes"
    return [
        (short_line, ("list_attr_celeba.txt line 4 has 40 field(s), not 41 (a file name and 40 values", fix)),
        (no_line, ("list_attr_celeba.txt has no line for 1 of the 8 images in", f"(first: {held})", fix)),
        (value("0"), ("list_attr_celeba.txt line 3 has the value '0', not 1 or -1", fix)),
        (value("yes"), ("list_attr_celeba.txt line 3 has the value 'yes', not 1 or -1", fix)),
    ]


@pytest.mark.parametrize(("spoil", "messages"), celeba_attribute_errors(), ids=["columns", "no-line", "0", "yes"])
def test_celeba_attribute_file_errors(spoil, messages, tmp_path, capsys):
    write_images(tmp_path / "img_align_celeba", 8, (89, 109), "RGB", ".jpg")
    lines = celeba_attribute_lines([f"{i:06d}.jpg" for i in range(8)], np.ones((8, 40), int))
    spoil(lines)
    (tmp_path / "list_attr_celeba.txt").write_text("\n".join(lines) + "\n")
    args = ["train", "--preset", "celeba", "--data", str(tmp_path), "--out", str(tmp_path / "r"), "--steps", "1"]
    fails(args, capsys, *messages)
    assert not (tmp_path / "r").exists()


def test_a_celeba_folder_smaller_than_a_batch(tmp_path, capsys):
    write_images(tmp_path / "img_align_celeba", 20, (89, 109), "RGB", ".jpg")
    args = ["train", "--preset", "celeba", "--data", str(tmp_path), "--out", str(tmp_path / "r"), "--steps", "1"]
    shown = f"larger than the data set: celeba ({tmp_path}, all but the held-out part) holds 16 images"
    fails(
        args, capsys, "--batch-size 64 (per process)", shown, "pass a smaller --batch-size, or --data with more images"
    )
    assert not (tmp_path / "r").exists()


def test_a_celeba_partition_file_with_a_byte_order_mark_keeps_its_first_image(tmp_path):
    from infogan.data.folder import celeba_files

    write_images(tmp_path / "img_align_celeba", 4, (40, 50), "RGB", ".jpg")
    rows = b"000000.jpg 0\r\n000001.jpg 0\r\n000002.jpg 2\r\n000003.jpg 1\r\n"
    (tmp_path / "list_eval_partition.txt").write_bytes(b"\xef\xbb\xbf" + rows)  # as Windows' Notepad saves it
    assert [p.name for p in celeba_files(tmp_path, "train")] == ["000000.jpg", "000001.jpg"]
    assert [p.name for p in celeba_files(tmp_path, "test")] == ["000002.jpg"]
