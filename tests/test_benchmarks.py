"""benchmarks/gpu_check.py keeps going past a failed or hung stage and records each in its JSON report."""

import importlib.util
import json
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def load_gpu_check():
    spec = importlib.util.spec_from_file_location("gpu_check", ROOT / "benchmarks" / "gpu_check.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_a_failed_or_timed_out_stage_is_recorded_and_the_next_one_runs(tmp_path):
    gpu_check = load_gpu_check()
    report, log, deadline = {"stages": []}, tmp_path / "check.log", time.monotonic() + 60
    env = dict(os.environ)

    def stage(name, code, timeout=30.0):
        return gpu_check.run_stage(report, name, [sys.executable, "-c", code], timeout, env, log, deadline)

    stage("fails", "print('half done'); raise SystemExit(3)")
    start = time.monotonic()
    child = "import subprocess, sys, time; subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)'])"
    stage("hangs", f"{child}; time.sleep(60)", timeout=1)
    assert time.monotonic() - start < 10  # its child, holding the output pipe open, was killed too
    _, output = stage("works", "print('fine')")
    gpu_check.run_stage(report, "late", [sys.executable, "-c", "pass"], 30, env, log, time.monotonic() + 1)
    gpu_check.write_report(report, tmp_path / "r.json")

    fails, hangs, works, late = json.loads((tmp_path / "r.json").read_text())["stages"]
    assert fails["rc"] == 3 and fails["tail"] == ["half done"]
    assert hangs["rc"] is None and hangs["timed_out_after_s"] == 1
    assert works["rc"] == 0 and "tail" not in works and output == "fine\n"
    assert late["rc"] is None and late["skipped"].startswith("out of time")
    assert "===== fails (rc 3" in log.read_text() and "fine" in log.read_text()


def test_test_outcomes_are_read_from_junit_or_from_the_verbose_output_of_a_killed_run(tmp_path):
    gpu_check = load_gpu_check()
    junit = tmp_path / "junit.xml"
    junit.write_text(
        '<testsuites><testsuite tests="3" failures="1" errors="0" skipped="1">'
        '<testcase classname="tests.test_a" name="test_ok"/>'
        '<testcase classname="tests.test_a" name="test_bad"><failure message="no"/></testcase>'
        '<testcase classname="tests.test_b" name="test_gpu"><skipped message="no CUDA device"/></testcase>'
        "</testsuite></testsuites>"
    )
    assert gpu_check.junit_counts(junit)["pytest"] == {
        "tests": 3,
        "failures": 1,
        "errors": 0,
        "skipped": 1,
        "not_passed": ["tests.test_a::test_bad"],
        "skip_reasons": {"no CUDA device": 1},
    }
    assert gpu_check.junit_counts(tmp_path / "none.xml") == {}

    output = (
        "tests/test_a.py::test_ok PASSED   [ 10%]\ntests/test_a.py::test_bad[cuda] FAILED   [ 20%]\ntests/test_b.py::"
    )
    counts = gpu_check.progress_counts(output)["pytest"]
    assert counts["passed"] == counts["failed"] == 1 and counts["not_passed"] == ["tests/test_a.py::test_bad[cuda]"]
