"""README's "Your own images, step by step", walked on a folder of RGB photos in two class subfolders
that the tests make: what each command prints must be enough to go on without guessing."""

from __future__ import annotations

import csv
import json
import logging
import re
import shlex

import pytest
import torch
from conftest import write_images
from PIL import Image

from infogan.cli import build_parser, config_from_args, main
from infogan.latent import LatentSpec, band_labels, category_rows_latent
from infogan.metrics.clustering import member_rows


@pytest.fixture(scope="module")
def photos(tmp_path_factory):
    """40 "female" and 24 "male" RGB photos of assorted sizes: the majority class holds 0.625."""
    root = tmp_path_factory.mktemp("photos") / "faces"
    write_images(root / "female", 40, (48, 40), "RGB", ".jpg")
    write_images(root / "male", 24, (40, 52), "RGB", ".jpg")
    return root


@pytest.fixture(scope="module")
def photo_run(tmp_path_factory, photos):
    """README's training line for photos, at a budget of 6 steps."""
    run = tmp_path_factory.mktemp("runs") / "faces"
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
    assert not any("held" in note for note in after["notes"].values())


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
