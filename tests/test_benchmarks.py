"""benchmarks/gpu_check.py keeps going past a failed or hung stage and records each in its JSON report;
benchmarks/face_training_curve.py measures every checkpoint of a run once."""

import importlib.util
import json
import math
import os
import sys
import time
from pathlib import Path

import numpy as np
from conftest import celeba_attribute_lines, write_images

from infogan.cli import main
from infogan.config import TrainConfig
from infogan.metrics.domain_classifier import save_classifier, train_classifier

ROOT = Path(__file__).resolve().parents[1]


def load_benchmark(name: str):
    spec = importlib.util.spec_from_file_location(name, ROOT / "benchmarks" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # where dataclasses look up the module's names
    spec.loader.exec_module(module)
    return module


def test_a_failed_or_timed_out_stage_is_recorded_and_the_next_one_runs(tmp_path):
    gpu_check = load_benchmark("gpu_check")
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
    gpu_check = load_benchmark("gpu_check")
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


def test_the_face_training_curve_has_a_row_per_checkpoint_and_skips_those_it_has(tmp_path, capsys):
    faces, run, cache, out = tmp_path / "faces", tmp_path / "run", tmp_path / "classifiers", tmp_path / "curve.json"
    write_images(faces / "img_align_celeba", 60, (89, 109), "RGB", ".jpg")  # 48 to train on, 12 held out
    files = sorted(p.name for p in (faces / "img_align_celeba").iterdir())
    attributes = np.random.default_rng(0).integers(0, 2, (len(files), 40))
    (faces / "list_attr_celeba.txt").write_text("\n".join(celeba_attribute_lines(files, attributes)) + "\n")
    args = ["--data", str(faces), "--out", str(run), "--steps", "4", "--batch-size", "8", "--checkpoint-every", "2"]
    main(["train", "--preset", "celeba", *args, "--keep-checkpoints", "5"])
    config = TrainConfig(dataset="celeba", data_dir=str(faces), image_size=32, channels=3)
    save_classifier(train_classifier(config, epochs=1), cache)
    curve = load_benchmark("face_training_curve")
    argv = [str(run), "--data", str(faces), "--classifiers", str(cache), "--samples", "12", "--json", str(out)]

    curve.main(argv)
    printed = capsys.readouterr().out
    entry = json.loads(out.read_text())[str(run.resolve())]
    assert [row["step"] for row in entry["checkpoints"]] == [2, 4]
    assert [row["images_seen"] for row in entry["checkpoints"]] == [16, 32]
    for row in [entry["floor"], *entry["checkpoints"]]:
        assert all(math.isfinite(value) for value in row.values()), row
    lines = printed.splitlines()
    heading = next(i for i, line in enumerate(lines) if line.endswith("D acc held-out vs fake"))
    assert [line.split()[:2] for line in lines[heading + 1 : heading + 3]] == [["2", "16"], ["4", "32"]]

    curve.main(argv)  # everything measured: nothing is loaded again
    assert "done" not in capsys.readouterr().out and json.loads(out.read_text())[str(run.resolve())] == entry
