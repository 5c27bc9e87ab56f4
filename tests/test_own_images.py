"""README's "Your own images, step by step", walked on a folder of RGB photos in two class subfolders
that the tests make: what each command prints must be enough to go on without guessing."""

from __future__ import annotations

import csv
import io
import json
import logging
import re
import shlex
import subprocess
import sys

import pytest
import torch
from conftest import write_images
from PIL import Image

from infogan.cli import build_parser, config_from_args, main
from infogan.config import preset_config
from infogan.errors import InfoGANError
from infogan.latent import LatentSpec, band_labels, category_rows_latent
from infogan.metrics import Report, format_report
from infogan.metrics.clustering import member_rows
from infogan.metrics.sample_quality import weak_features


@pytest.fixture(scope="module")
def photos(module_tmp):
    """40 "female" and 24 "male" RGB photos of assorted sizes: the majority class holds 0.625."""
    root = module_tmp("photos") / "faces"
    write_images(root / "female", 40, (48, 40), "RGB", ".jpg")
    write_images(root / "male", 24, (40, 52), "RGB", ".jpg")
    return root


@pytest.fixture(scope="module")
def photo_run(module_tmp, photos):
    """README's training line for photos, at a budget of 6 steps."""
    run = module_tmp("runs") / "faces"
    main(["train", "--dataset", "folder", "--data", str(photos), "--image-size", "32", "--channels", "3",
          "--categorical", "2", "--steps", "6", "--batch-size", "16", "--out", str(run)])  # fmt: skip
    return run


def evaluate(run, capsys, *flags):
    main(["evaluate", str(run), "--samples", "40", "--json", *flags])
    return json.loads(capsys.readouterr().out)


def test_the_fix_evaluate_prints_for_sample_quality_runs_as_printed_and_the_skip_is_gone(photo_run, tmp_path, capsys):
    cache = ["--classifiers", str(tmp_path / "classifiers")]
    report = evaluate(photo_run, capsys, "--metrics", "sample_quality", *cache)
    hint = re.search(r"`(infogan classifier [^`]+)`", report["skipped"]["sample_quality"]).group(1)
    main(shlex.split(hint)[1:])  # as printed
    capsys.readouterr()
    report = evaluate(photo_run, capsys, "--metrics", "sample_quality", *cache)
    assert report["skipped"] == {} and "fd" in report["values"]


def test_a_folder_without_a_preset_gets_the_photo_preset_and_training_says_which_and_why(photo_run, caplog):
    saved = json.loads((photo_run / "config.json").read_text())
    assert saved["preset"] == "photos" and saved["real_cluster_weight"] == 0  # no slanting warps for photos
    with caplog.at_level(logging.INFO):
        config = config_from_args(build_parser().parse_args(["train", "--dataset", "folder", "--data", "faces"]))
    assert (config.preset, config.image_size, config.channels, config.out) == ("photos", 32, 3, "runs/photos")
    said = " ".join(record.getMessage() for record in caplog.records)
    assert "starts from the preset photos" in said and "slanting warps" in said and "--preset mnist" in said
    digits = config_from_args(build_parser().parse_args(["train", "--preset", "mnist", "--dataset", "folder"]))
    assert digits.preset == "mnist" and digits.real_cluster_shear == 20  # a preset named is a preset kept


def test_training_and_evaluate_give_one_clustering_score_beside_the_majority_rate(photo_run, capsys):
    records = [json.loads(line) for line in (photo_run / "metrics.jsonl").read_text().splitlines()]
    during = [record for record in records if record["event"] == "eval"][-1]
    after = evaluate(photo_run, capsys, "--metrics", "clustering")
    assert during["step"] == after["step"] == 6
    for key in ("cat0_acc", "cat0_majority", "cat0_nmi", "cat0_ari"):
        assert during[key] == after["values"][key], key
    assert after["values"]["cat0_majority"] == 0.625  # 40 of the 64 photos are female
    assert after["notes"]["clustering"].startswith("64 images of folder")
    assert "held" not in after["notes"]["clustering"]


def test_encode_names_the_file_and_the_class_of_each_row(photo_run, photos, tmp_path):
    main(["encode", str(photo_run), "--out", str(tmp_path / "codes.csv")])
    with open(tmp_path / "codes.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert list(rows[0])[:4] == ["index", "file", "label", "class"]
    assert [row["file"] for row in rows] == [str(path) for path in sorted(photos.rglob("*.jpg"))]
    for row in rows:
        assert row["class"] == row["file"].split("/")[-2] and row["label"] == {"female": "0", "male": "1"}[row["class"]]


def test_every_categorical_code_gets_its_own_labelled_bands_of_rows_in_the_sample_grid():
    spec = LatentSpec(noise=4, categorical=(2, 3), continuous=1)
    latent = category_rows_latent(spec, 5, torch.Generator().manual_seed(0))
    rows = band_labels(spec, [0, 1])
    assert rows == ["cat0 = 0", "cat0 = 1"] * 4 + ["cat1 = 0", "cat1 = 1", "cat1 = 2"] * 3  # 8 and 9 rows
    assert len(latent) == 5 * len(rows)
    for row, label in enumerate(rows):
        code, value = int(label[3]), int(label[-1])
        assert (latent.categorical[row * 5 : (row + 1) * 5, code] == value).all()
    band = latent.noise[40:55].view(3, 5, 4)  # cat1's first band: three rows over the same five latents
    assert torch.equal(band[0], band[1]) and torch.equal(band[0], band[2])
    assert not torch.equal(latent.noise[40:45], latent.noise[55:60])  # the next band draws fresh latents


def test_pictures_label_their_rows_enlarge_on_request_and_vary_a_code_without_dummy_values(photo_run, tmp_path):
    main(["traverse", str(photo_run), "--code", "0", "--steps", "5", "--out", str(tmp_path / "t.png")])
    traversal = Image.open(tmp_path / "t.png")
    assert traversal.height == 8 * 34 + 2 and traversal.width > 5 * 34 + 2  # 4 bands of the 2-way code, labelled
    main(["interpolate", str(photo_run), "--pairs", "3", "--steps", "4", "--upscale", "3",
          "--out", str(tmp_path / "i.png")])  # fmt: skip
    assert Image.open(tmp_path / "i.png").size == (3 * (4 * 34 + 2), 3 * (3 * 34 + 2))
    main(["sample", str(photo_run), "--vary-cat", "0", "--out", str(tmp_path / "row.png")])  # other codes: --seed's
    assert Image.open(tmp_path / "row.png").size == (2 * 34 + 2, 34 + 2)


def test_each_row_of_the_members_picture_names_its_category_and_matched_class(photo_run, capsys):
    assert member_rows("cat0", [1, 0, 2], {1: 0, 0: 1}, ["female", "male"]) == [
        "cat0 = 1 -> female",
        "cat0 = 0 -> male",
        "cat0 = 2, unmatched",
    ]
    evaluate(photo_run, capsys, "--metrics", "clustering")
    members = Image.open(photo_run / "members-cat0.png")
    assert members.height == 2 * 34 + 2 and members.width > 12 * 34 + 2 + 50  # a strip of row labels


def test_the_explorer_offers_invert_to_grey_models_only(photo_run):
    from infogan.explore import create_app
    from infogan.run_folder import load_run

    client = create_app(load_run(photo_run, "cpu")).test_client()
    assert client.get("/api/model").json["invert"] is False
    assert b'id="invert-option" hidden' in client.get("/").data  # the page shows it when /api/model says so
    photo = io.BytesIO()
    Image.new("RGB", (40, 40), "white").save(photo, format="PNG")
    refused = client.post("/api/encode", data={"image": (io.BytesIO(photo.getvalue()), "face.png"), "invert": "true"})
    assert refused.status_code == 400 and "invert is for grey models" in refused.json["error"]


def test_a_mistyped_option_in_python_names_the_field_meant():
    with pytest.raises(InfoGANError, match=r"unknown option\(s\) data \(did you mean data_dir\?\)"):
        preset_config("photos", data="faces")


def test_train_called_from_python_shows_its_progress(mnist_dir, tmp_path):
    script = (
        "from infogan import preset_config, train; "
        f"train(preset_config('mnist', data_dir={str(mnist_dir)!r}, out={str(tmp_path / 'run')!r}, steps=4, "
        "batch_size=16, log_every=2))"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300, check=True)
    assert "training 4 steps" in done.stderr and "step 2/4" in done.stderr and "step 4/4" in done.stderr


def test_evaluate_of_some_metrics_adds_to_the_report_instead_of_replacing_it(photo_run, tmp_path, capsys):
    out = ["--out", str(tmp_path / "report.json")]
    evaluate(photo_run, capsys, "--metrics", "clustering", *out)
    both = evaluate(photo_run, capsys, "--metrics", "information", *out)
    saved = json.loads((tmp_path / "report.json").read_text())
    assert saved == both and {"cat0_acc", "mi_cat0"} <= set(saved["values"])
    assert set(saved["metrics"]) == {"clustering", "information"} and set(saved["notes"]) == set(saved["metrics"])


def test_sample_quality_from_a_weak_feature_network_comes_with_a_caution():
    model, real = {"fd": 0.8, "precision": 0.96}, {"fd": 1.1, "precision": 0.93}  # the figures
    caveat = weak_features(class_classifier(0.71), model, real)
    assert "only 0.71 test accuracy" in caveat and "below the real-vs-real floor" in caveat and "precision" in caveat
    assert weak_features(class_classifier(0.98), {"fd": 9.0, "precision": 0.5}, real) is None
    report = Report("run", 6, {"fd": 0.8, "cat0_acc": 0.6}, caveats={"sample_quality": caveat})
    report.metrics = {"clustering": ["cat0_acc"], "sample_quality": ["fd"]}
    lines = format_report(report).splitlines()
    assert lines[2].strip().startswith("fd") and lines[3].startswith("  CAUTION, sample_quality above: the domain")


def class_classifier(score: float):
    """A domain classifier as weak_features reads it: a class classifier with this test accuracy."""
    from infogan.metrics.domain_classifier import Classifier

    return Classifier(None, "key", score, "note")
