"""`infogan select` on real tiny runs: the table, select.json, identical runs, and bad input."""

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch
from test_bad_input import fails, snapshot

from infogan import selection
from infogan.cli import main
from infogan.data import ImageData
from infogan.selection import select_runs


@pytest.fixture(scope="module")
def runs(module_tmp, mnist_dir) -> Path:
    """A folder of three 3-step runs, as a sweep leaves them, plus an exact copy of seed-0."""
    root = module_tmp("select")
    for seed in range(3):
        out = root / f"seed-{seed}"
        tiny = ["--data", str(mnist_dir), "--batch-size", "16", "--steps", "3"]
        main(["train", *tiny, "--seed", str(seed), "--out", str(out)])
    shutil.copytree(root / "seed-0", root / "seed-10")
    return root


def test_select_writes_the_ranking_and_identical_runs_agree_fully(runs, mnist_dir, capsys):
    main(["select", str(runs), "--data", str(mnist_dir)])
    out = capsys.readouterr().out
    record = json.loads((runs / "select.json").read_text())
    assert [Path(run).name for run in record["runs"]] == ["seed-0", "seed-1", "seed-2", "seed-10"]  # 2 before 10
    assert sorted(Path(row["run"]).name for row in record["rows"]) == ["seed-0", "seed-1", "seed-10", "seed-2"]
    assert record["matrix"][0][3] == pytest.approx(1.0)  # seed-0 and its copy
    assert record["selected"] == record["rows"][0]["run"] and f"selected: {record['selected']}" in out
    assert {"centrality", "consensus_nmi", "acc", "nmi", "ari"} <= set(record["rows"][0])
    assert "Spearman(centrality, ACC)" in out and "consensus partition of all runs: ACC" in out


def test_runs_whose_partitions_are_known_rank_as_they_agree(runs, monkeypatch):
    """Q's partitions of 1,000 labelled images set by hand: three noisy copies of the labels, one unrelated."""
    labels = np.arange(1000) % 10
    rng = np.random.default_rng(0)
    partitions = [labels.copy() for _ in range(3)] + [rng.integers(10, size=len(labels))]
    for flip, partition in zip((0.05, 0.15, 0.3), partitions, strict=False):
        moved = rng.random(len(labels)) < flip
        partition[moved] = rng.integers(10, size=moved.sum())
    calls = iter(partitions)  # runs are encoded in the order of select.json's "runs"

    def known_partition(model, images):
        return [torch.nn.functional.one_hot(torch.from_numpy(next(calls)), 10).float()], torch.zeros(len(images), 2)

    images = torch.zeros(len(labels), 1, 28, 28, dtype=torch.uint8)
    monkeypatch.setattr(selection, "load_dataset", lambda *_: ImageData(images, torch.from_numpy(labels), "known"))
    monkeypatch.setattr(selection, "encode", known_partition)
    chosen = selection.select_runs([runs])
    ranked = [Path(row["run"]).name for row in chosen.rows]
    assert ranked == ["seed-0", "seed-1", "seed-2", "seed-10"]  # least noise first, the unrelated one last
    assert chosen.spearman_acc == pytest.approx(1.0)
    assert chosen.consensus["acc"] > 0.95


def test_the_consensus_criterion_and_ari_rank_too(runs, mnist_dir):
    selection = select_runs([runs], str(mnist_dir), criterion="consensus", similarity="ari")
    values = [row["consensus_nmi"] for row in selection.rows]
    assert values == sorted(values, reverse=True)
    assert 0.0 <= selection.consensus["acc"] <= 1.0


def test_bad_selections_are_refused_without_writing(runs, tmp_path, mnist_dir, capsys):
    empty = tmp_path / "empty"
    empty.mkdir()
    fails(["select", str(empty)], capsys, "holds no runs")
    fails(["select", str(runs / "seed-0")], capsys, "at least two")

    other = tmp_path / "other"
    main(
        [
            "train",
            "--data",
            str(mnist_dir),
            "--out",
            str(other),
            "--batch-size",
            "16",
            "--steps",
            "1",
            "--continuous",
            "1",
        ]
    )
    before = snapshot(runs)
    fails(["select", str(runs), str(other)], capsys, str(other), "latent codes")

    unfinished = tmp_path / "unfinished"
    shutil.copytree(runs / "seed-1", unfinished)
    (unfinished / "checkpoints" / "latest.pt").unlink()
    fails(["select", str(runs), str(unfinished)], capsys, str(unfinished), "no checkpoints/latest.pt")
    assert snapshot(runs) == before


def test_continuous_codes_are_compared_by_factor_vae(runs):
    """Without the categorical code: run a's Q read against run b's generated codes (InfoGAN-CR's choice)."""
    chosen = select_runs([runs], codes="continuous", votes=10)
    matrix = np.array(chosen.matrix)
    assert chosen.codes == "continuous" and chosen.similarity == "factor_vae"
    assert matrix.shape == (4, 4) and np.allclose(matrix, matrix.T)
    assert ((matrix >= 0) & (matrix <= 1)).all()
    assert chosen.selected in chosen.runs and "acc" not in chosen.rows[0]


@pytest.mark.parametrize(
    ("out", "message"),
    [
        ("seed-0/config.json", "lies in {runs}/seed-0/config.json, which infogan train writes"),
        ("seed-1/checkpoints/latest.pt", "must end in .json"),
        ("seed-1/checkpoints/report.json", "which infogan train writes"),
        ("seed-2/summary.json", "which infogan train writes"),
        ("sweep.json", "is a sweep's record, which infogan sweep writes"),
        ("seed-0", "is a folder"),
        ("notes.txt/x.json", "cannot write into"),
    ],
)
def test_select_out_is_checked_before_any_work(out, message, runs, capsys):
    """`select A B --out A/config.json` used to replace the run's config with the report."""
    (runs / "sweep.json").write_text("{}")  # as if a sweep had made the runs
    (runs / "notes.txt").write_text("a file of the user's")
    before = snapshot(runs)
    fails(["select", str(runs), "--out", str(runs / out)], capsys, message.format(runs=runs))
    named = [str(runs / f"seed-{seed}") for seed in range(3)]
    fails(["select", *named, "--out", str(runs / out)], capsys, message.format(runs=runs))
    assert snapshot(runs) == before


def test_a_run_named_twice_is_refused(runs, tmp_path, capsys):
    """A run compared with itself agrees perfectly: its centrality would be a lie."""
    (tmp_path / "link").symlink_to(runs / "seed-1")
    before = snapshot(runs)
    fails(["select", str(runs / "seed-0"), str(runs / "seed-0")], capsys, "are the same run", "pass each run once")
    fails(
        ["select", str(runs / "seed-1"), str(tmp_path / "link")], capsys, f"{tmp_path / 'link'} and {runs / 'seed-1'}"
    )
    fails(["select", str(runs), str(runs / "seed-2")], capsys, "are the same run")
    assert snapshot(runs) == before
