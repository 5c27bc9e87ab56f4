"""The project's own files: what `make demo` runs and how the package is described to installers."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from infogan.cli import build_parser, config_from_args

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.skipif(shutil.which("make") is None, reason="needs make")
def test_demo_trains_the_budget_of_the_headline_figure_and_keeps_one_checkpoint():
    printed = subprocess.run(["make", "-n", "-C", str(ROOT), "demo"], capture_output=True, text=True, check=True)
    command = next(line for line in printed.stdout.splitlines() if "infogan train" in line).split()
    config = config_from_args(build_parser().parse_args(command[command.index("train") :]))
    assert (config.preset, config.seed, config.steps, config.batch_size) == ("mnist", 0, 2000, 64)  # README: 0.974
    assert config.keep_checkpoints == 1 and not config.keep_epoch_checkpoints
    assert "0.974" in printed.stdout and "minutes" in printed.stdout  # what it will reach, and how long it takes


@pytest.mark.skipif(sys.version_info < (3, 11), reason="tomllib is new in Python 3.11")
def test_license_is_an_spdx_string():
    import tomllib

    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert project["project"]["license"] == "MIT"  # the table form makes setuptools warn on every install
