"""torchrun on CPU: two processes train data-parallel, stay identical, and resume."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from infogan.checkpoint import load_checkpoint
from infogan.cli import main
from infogan.config import TrainConfig
from infogan.data import batches, load_dataset
from infogan.distributed import state_fingerprint

ROOT = Path(__file__).resolve().parents[1]
TORCHRUN = Path(sys.executable).with_name("torchrun")


def torchrun(*argv: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src"), "OMP_NUM_THREADS": "1"}
    command = [str(TORCHRUN), "--standalone", "--nproc_per_node=2", "-m", "infogan", *argv]
    return subprocess.run(command, capture_output=True, text=True, env=env, timeout=300)


@pytest.mark.slow
@pytest.mark.skipif(not TORCHRUN.is_file() or not torch.distributed.is_available(), reason="no torchrun")
def test_two_processes_stay_identical_and_resume(tmp_path, mnist_dir, capsys):
    out = tmp_path / "run"
    flags = ["--data", str(mnist_dir), "--batch-size", "16", "--log-every", "2", "--device", "cpu"]
    first = torchrun("train", "--out", str(out), "--steps", "3", *flags)
    assert first.returncode == 0, first.stderr[-3000:]
    second = torchrun("train", "--resume", str(out), "--steps", "5")
    assert second.returncode == 0, second.stderr[-3000:]

    assert {p.name for p in out.iterdir()} == {
        "config.json",
        "metrics.jsonl",
        "summary.json",
        "checkpoints",
        "samples",
        "traversals",
    }
    events = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    saved = [e for e in events if e["event"] == "checkpoint"]
    assert [e["step"] for e in saved] == [3, 5]
    state = load_checkpoint(out / "checkpoints" / "latest.pt")
    for event in saved:  # both processes' weights, bit for bit
        assert len(event["replica_fingerprints"]) == 2 and len(set(event["replica_fingerprints"])) == 1
    assert saved[-1]["replica_fingerprints"][0] == state_fingerprint(state["model"])
    assert state["step"] == 5 and len(state["rng"]["latent"]) == 2
    summary = json.loads((out / "summary.json").read_text())
    assert summary["processes"] == 2 and summary["images_seen"] == 5 * 16 * 2
    assert [e["step"] for e in events if e["event"] == "step"] == [2, 3, 4, 5]  # rank 0 alone wrote, once

    # the batch size is per process: one process cannot take over a two-process run
    shutil.copytree(out, tmp_path / "copy")
    with pytest.raises(SystemExit):
        main(["train", "--resume", str(tmp_path / "copy"), "--steps", "6"])
    assert "written by 2 process(es), not 1" in capsys.readouterr().err


def test_ranks_get_equal_disjoint_shares(mnist_dir):
    data = load_dataset(TrainConfig(data_dir=str(mnist_dir)))
    data.images = data.images[:63]  # 63 = 2 x 31: rank 0 would get 32 images and 2 batches, rank 1 only 1
    shares = [batches(data, 16, torch.Generator().manual_seed(0), rank, 2) for rank in (0, 1)]
    assert [len(share) for share in shares] == [1, 1]
    assert not set(torch.cat(shares[0]).tolist()) & set(torch.cat(shares[1]).tolist())
