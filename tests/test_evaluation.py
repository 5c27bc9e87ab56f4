"""Evaluation against known answers, and end to end through the command line on tiny IDX files:
train a few steps, train a tiny classifier, evaluate, plot."""

import json
import math

import numpy as np
import pytest
import torch
from PIL import Image

from infogan.cli import main
from infogan.config import TrainConfig
from infogan.data import labelled_splits
from infogan.errors import InfoGANError
from infogan.latent import LatentSpec, sample_latent
from infogan.losses import code_entropies
from infogan.metrics import METRICS, choose_metrics
from infogan.metrics.clustering import category_members
from infogan.metrics.image_properties import PROPERTIES
from infogan.metrics.information import information_bounds


def q_reading(latent, spec, confidence):
    """Q outputs that put logit `confidence` on the true category and read continuous codes exactly."""
    logits = [confidence * torch.nn.functional.one_hot(latent.categorical[:, i], k).float()
              for i, k in enumerate(spec.categorical)]  # fmt: skip
    return logits, latent.continuous.clone(), None


def test_perfect_q_reaches_entropy_and_blind_q_zero():
    spec = LatentSpec(noise=3, categorical=(10, 4), continuous=1)
    latent = sample_latent(spec, 512, torch.Generator().manual_seed(0))
    entropies = code_entropies(spec)
    perfect = information_bounds(q_reading(latent, spec, 100.0), latent, entropies)
    assert perfect[:2] == pytest.approx([math.log(10), math.log(4)], abs=1e-6)
    # a continuous code read exactly with sigma = 1: L_I = ln 2 - ln sqrt(2 pi), the bound's ceiling at fixed std
    assert perfect[2] == pytest.approx(math.log(2) - 0.5 * math.log(2 * math.pi), abs=1e-6)
    blind = information_bounds(q_reading(latent, spec, 0.0), latent, entropies)
    assert blind[:2] == pytest.approx([0.0, 0.0], abs=1e-6)


def test_choose_metrics_takes_names_from_the_registry():
    assert set(METRICS) >= {"clustering", "information", "sample_quality"}
    assert choose_metrics(None) == list(METRICS)
    assert choose_metrics("information, clustering") == ["information", "clustering"]
    with pytest.raises(InfoGANError, match="--metrics"):
        choose_metrics("clustering,fid")


def test_one_split_source_holds_out_a_fixed_disjoint_part(monkeypatch, digits, tmp_path):
    monkeypatch.setenv("INFOGAN_CACHE", str(tmp_path))  # the embedded digits even where full MNIST is cached
    images, _ = digits
    assert len(np.unique(images.reshape(len(images), -1), axis=0)) == len(images)  # no duplicate digits
    splits = labelled_splits(TrainConfig(dataset="mnist"))
    assert len(splits.test) == 1000 and len(splits.train) == 4000 and "held out" in splits.note
    assert torch.equal(splits.test.images, labelled_splits(TrainConfig(dataset="mnist")).test.images)
    train_keys = {bytes(x.numpy()) for x in splits.train.images}
    assert not any(bytes(x.numpy()) in train_keys for x in splits.test.images)


def test_two_split_source_uses_its_test_split(mnist_dir):
    splits = labelled_splits(TrainConfig(dataset="mnist", data_dir=str(mnist_dir)))
    assert (len(splits.train), len(splits.test)) == (160, 80) and "test split" in splits.note


# ------------------------------------------------------------------ end to end


@pytest.fixture(scope="module")
def trained(module_tmp, mnist_dir):
    root = module_tmp("evaluate")
    run = root / "run"
    main(["train", "--data", str(mnist_dir), "--out", str(run), "--batch-size", "16", "--steps", "12",
          "--log-every", "4", "--eval-every", "5"])  # fmt: skip
    return run, root / "classifiers"


def test_training_logs_held_out_clustering(trained):
    run, _ = trained
    records = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    evals = [r for r in records if r["event"] == "eval"]
    assert [r["step"] for r in evals] == [5, 10, 12]  # every 5 steps, then the run's end
    assert all(0 <= r["cat0_acc"] <= 1 and 0 <= r["cat0_nmi"] <= 1 and "cat0_ari" in r for r in evals)
    assert all(r["cat0_majority"] == 1.0 for r in evals)  # the 80 test digits of mnist_dir are all 8s
    assert any(r["event"] == "epoch" and "mi_cat0" in r and "loss_d" in r for r in records)


def test_evaluate_without_classifier_says_what_is_skipped(trained, capsys):
    run, cache = trained
    main(["evaluate", str(run), "--samples", "40", "--classifiers", str(cache / "none"), "--json"])
    report = json.loads(capsys.readouterr().out)
    assert "sample_quality" in report["skipped"] and "infogan classifier" in report["skipped"]["sample_quality"]
    assert "fd" not in report["values"] and "cat0_acc" in report["values"]


def test_evaluate_reports_every_field(trained, mnist_dir, capsys):
    run, cache = trained
    main(["classifier", "--data", str(mnist_dir), "--epochs", "1", "--cache", str(cache)])
    printed = capsys.readouterr().out
    assert printed.startswith("test accuracy ") and "test split (80 images)" in printed
    main(["evaluate", str(run), "--samples", "60", "--classifiers", str(cache), "--json"])
    report = json.loads(capsys.readouterr().out)
    assert report["skipped"] == {} and report["step"] == 12
    expected = {f"cat0_{k}" for k in ("acc", "majority", "nmi", "ari")}
    expected |= {f"{kind}_{code}" for kind in ("mi", "h") for code in ("cat0", "cont0", "cont1")}
    quality = ("fd", "precision", "recall", "classifier_score")
    expected |= {"classifier_test_acc", *quality, *(f"real_{k}" for k in quality)}
    expected |= {"codes_named", "cont0_rho_chance", "cont1_rho_chance"}
    expected |= {f"{code}_{kind}_{p}" for code in ("cont0", "cont1") for kind in ("rho", "change") for p in PROPERTIES}
    assert set(report["values"]) == expected
    assert all(math.isfinite(v) for v in report["values"].values())
    assert report["values"]["h_cat0"] == pytest.approx(math.log(10))
    assert set(report["notes"]) == {"clustering", "codes", "information", "sample_quality"}
    assert (run / "confusion-cat0.png").is_file() and (run / "evaluation.json").is_file()
    members = Image.open(run / "members-cat0.png")  # 12 images x 10 categories, each row labelled
    assert members.height == 10 * 30 + 2 and members.width > 12 * 30 + 2

    main(["evaluate", str(run), "--samples", "60", "--classifiers", str(cache), "--metrics", "information"])
    assert "mi_cat0" in capsys.readouterr().out


def test_evaluate_writes_its_pictures_beside_out_not_into_the_run(trained, mnist_dir, tmp_path, capsys):
    run, _ = trained
    before = {path.name: path.stat().st_mtime_ns for path in run.glob("*.png")}
    out = tmp_path / "other-data" / "report.json"
    main(["evaluate", str(run), "--data", str(mnist_dir), "--metrics", "clustering", "--out", str(out)])
    assert {path.name for path in out.parent.iterdir()} == {"report.json", "confusion-cat0.png", "members-cat0.png"}
    assert {path.name: path.stat().st_mtime_ns for path in run.glob("*.png")} == before
    assert f"wrote {out.parent / 'confusion-cat0.png'}" in capsys.readouterr().out


def test_category_members_shows_each_categorys_images_in_order_and_blanks_empty_ones():
    images = torch.arange(30, dtype=torch.uint8).view(30, 1, 1, 1).expand(30, 1, 2, 2).contiguous()
    predictions = np.array([0] * 20 + [2] * 10)  # category 1 is empty, category 2 has fewer than 12
    grid = category_members(images, predictions, order=[2, 1, 0], seed=0)
    assert grid.shape == (36, 1, 2, 2)
    values = ((grid[:, 0, 0, 0] + 1) * 127.5).round().long()  # back to the image index
    assert set(values[:10].tolist()) == set(range(20, 30)) and (grid[10:24] == -1).all()  # blanks pad it
    assert len(set(values[24:].tolist())) == 12 and (values[24:] < 20).all()  # 12 distinct of category 0


def test_plot_writes_curves(trained, capsys):
    run, _ = trained
    main(["plot", str(run)])
    assert capsys.readouterr().out.strip() == str(run / "curves.png")
    assert Image.open(run / "curves.png").size[0] > 600
