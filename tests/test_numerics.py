"""Importing the package asks MKL for reproducible results across processes, unless the user chose a mode."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src"


@pytest.mark.parametrize(("chosen", "expected"), [(None, "AUTO,STRICT"), ("COMPATIBLE", "COMPATIBLE")])
def test_importing_infogan_sets_mkl_strict_mode_unless_chosen(chosen, expected):
    env = {key: value for key, value in os.environ.items() if key != "MKL_CBWR"}
    env["PYTHONPATH"] = str(SRC)
    if chosen is not None:
        env["MKL_CBWR"] = chosen
    code = "import os, infogan; print(os.environ['MKL_CBWR'])"
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True).stdout
    assert out.strip() == expected
