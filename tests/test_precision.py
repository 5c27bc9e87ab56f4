"""--precision auto|float32|bf16: what auto resolves to, that the resolved choice is saved and resumed
exactly, that a bf16 run is used in float32, and that the old --amp flag and config key still work."""

import json
import logging

import pytest
import torch

from infogan import precision
from infogan.checkpoint import load_checkpoint
from infogan.cli import main
from infogan.config import TrainConfig


def train_args(mnist_dir, out, *extra):
    return ["train", "--data", str(mnist_dir), "--out", str(out), "--batch-size", "16", "--log-every", "2", *extra]


def without_bf16_units(monkeypatch):
    """A CPU like one without AMX or AVX-512 BF16, whatever this machine has."""
    monkeypatch.setattr(precision, "cpu_bf16_units", lambda: {"AMX": False, "AVX-512 BF16": False})


def test_auto_is_float32_on_a_cpu_without_bf16_units(monkeypatch):
    without_bf16_units(monkeypatch)
    resolved, reason = precision.resolve_precision("auto", torch.device("cpu"))
    assert resolved == "float32" and "no AMX or AVX-512 BF16" in reason
    assert not precision.autocast("auto", torch.device("cpu"))._enabled


def test_auto_is_bf16_on_a_cpu_with_amx(monkeypatch):
    monkeypatch.setattr(precision, "cpu_bf16_units", lambda: {"AMX": True, "AVX-512 BF16": False})
    assert precision.resolve_precision("auto", torch.device("cpu")) == ("bf16", "auto: this CPU reports AMX")
    assert precision.autocast("auto", torch.device("cpu"))._enabled


def test_asked_precisions_are_taken_as_they_are(monkeypatch):
    without_bf16_units(monkeypatch)
    for asked in ("float32", "bf16"):
        assert precision.resolve_precision(asked, torch.device("cpu")) == (asked, "as asked")


def test_auto_is_resolved_at_the_start_of_training_and_saved(tmp_path, mnist_dir, monkeypatch, caplog):
    without_bf16_units(monkeypatch)
    with caplog.at_level(logging.INFO):
        main(train_args(mnist_dir, tmp_path / "r", "--steps", "2", "--precision", "auto"))
    assert json.loads((tmp_path / "r" / "config.json").read_text())["precision"] == "float32"
    assert load_checkpoint(tmp_path / "r" / "checkpoints" / "latest.pt")["config"]["precision"] == "float32"
    assert json.loads((tmp_path / "r" / "summary.json").read_text())["precision"] == "float32"
    assert "in float32 (auto: this CPU has no AMX or AVX-512 BF16)" in caplog.text


def test_a_bf16_run_resumes_bit_for_bit_and_keeps_bf16(tmp_path, mnist_dir):
    """N steps + resume + N steps in bf16 gives the weights of 2N steps in one go, and the resume, given
    no precision, keeps the run's."""
    main(train_args(mnist_dir, tmp_path / "whole", "--steps", "12", "--precision", "bf16"))
    main(train_args(mnist_dir, tmp_path / "split", "--steps", "6", "--precision", "bf16"))
    main(["train", "--resume", str(tmp_path / "split"), "--steps", "12"])
    assert json.loads((tmp_path / "split" / "config.json").read_text())["precision"] == "bf16"
    whole = load_checkpoint(tmp_path / "whole" / "checkpoints" / "latest.pt")
    split = load_checkpoint(tmp_path / "split" / "checkpoints" / "latest.pt")
    assert split["step"] == 12
    for name, tensor in whole["model"].items():
        assert torch.equal(tensor, split["model"][name]), name
    float32 = tmp_path / "float32"
    main(train_args(mnist_dir, float32, "--steps", "12", "--precision", "float32"))
    differs = load_checkpoint(float32 / "checkpoints" / "latest.pt")["model"]["generator.fc.0.weight"]
    assert not torch.equal(differs, whole["model"]["generator.fc.0.weight"])  # bf16 really ran


def test_a_bf16_run_loads_and_samples_in_float32(tmp_path, mnist_dir):
    from infogan.generate import sample_grid
    from infogan.run_folder import load_run

    main(train_args(mnist_dir, tmp_path / "r", "--steps", "4", "--amp"))
    run = load_run(tmp_path / "r")
    assert run.config.precision == "bf16"
    assert all(t.dtype == torch.float32 for t in run.model.state_dict().values() if t.is_floating_point())
    images, _ = sample_grid(run.model, seed=1)
    assert images.dtype == torch.float32 and images.isfinite().all()
    with torch.autocast("cpu", torch.bfloat16):  # what bf16 inference would give: not what sampling gives
        in_bf16, _ = sample_grid(run.model, seed=1)
    assert not torch.equal(images, in_bf16.float())
    main(["sample", str(tmp_path / "r"), "--out", str(tmp_path / "grid.png")])
    assert (tmp_path / "grid.png").is_file()


@pytest.mark.parametrize(
    ("flag", "expected"), [("--amp", "bf16"), ("--no-amp", "float32"), ("--precision=auto", "auto")]
)
def test_the_amp_flags_are_aliases_of_precision(flag, expected):
    from infogan.cli import build_parser, config_from_args

    assert config_from_args(build_parser().parse_args(["train", flag])).precision == expected


def test_configs_written_before_precision_load(tmp_path):
    """config.json files and checkpoints from before --precision hold amp: true or false."""
    base = TrainConfig().to_dict()
    del base["precision"]
    assert TrainConfig.from_dict({**base, "amp": True}).precision == "bf16"
    assert TrainConfig.from_dict({**base, "amp": False}).precision == "float32"
    assert TrainConfig.from_dict({**base, "amp": True, "precision": "float32"}).precision == "float32"
