"""dSprites end to end: the data set from an original-layout file, `infogan dsprites`, the preset,
`infogan evaluate --disentanglement`, and the shape-classifier maths."""

import json

import numpy as np
import pytest
import torch

from infogan.cli import main
from infogan.config import TrainConfig, preset_config
from infogan.data import dsprites, load_dataset
from infogan.errors import InfoGANError
from infogan.metrics.disentanglement_eval import Budget, check_dsprites_model
from infogan.metrics.dsprites_shape import shape_scores
from infogan.networks import build_model
from infogan.run_folder import Run


@pytest.fixture(scope="module")
def sprites_file(module_tmp):
    """64 sprites spread over the grid, in the original file's layout."""
    path = module_tmp("dsprites") / "subset.npz"
    dsprites.write_npz(path, np.arange(0, dsprites.NUM_IMAGES, dsprites.NUM_IMAGES // 64))
    return path


def test_dataset_reads_an_original_layout_file(sprites_file):
    data = load_dataset(preset_config("dsprites", data_dir=str(sprites_file)))
    assert data.images.shape == (64, 1, 64, 64) and data.images.dtype == torch.uint8
    assert set(data.images.unique().tolist()) == {0, 255}
    indices = np.arange(0, dsprites.NUM_IMAGES, dsprites.NUM_IMAGES // 64)
    assert np.array_equal(data.labels.numpy(), dsprites.index_to_classes(indices)[:, 0])
    assert np.array_equal(data.images[:, 0].numpy() // 255, dsprites.render(dsprites.index_to_classes(indices)))


def test_dataset_rejects_a_file_that_is_not_dsprites(tmp_path):
    path = tmp_path / "other.npz"
    np.savez(path, imgs=np.zeros((2, 28, 28), np.uint8), latents_classes=np.zeros((2, 6), np.int64))
    with pytest.raises(InfoGANError, match="not dSprites"):
        load_dataset(preset_config("dsprites", data_dir=str(path)))


def test_preset_is_infogan_crs_setup():
    config = preset_config("dsprites")
    assert (config.noise, config.categorical, config.continuous) == (5, (), 5)
    assert (config.info_weight_cont, config.lr_g, config.lr_d, config.lr_q, config.batch_size) == (
        0.05,
        1e-3,
        2e-3,
        2e-3,
        64,
    )
    assert config.image_size == 64 and config.network == "small" and config.cr_weight == 0
    with pytest.raises(InfoGANError, match="--network"):
        TrainConfig(network="small").validate()  # 28x28
    with pytest.raises(InfoGANError, match="--cr-gap"):
        preset_config("dsprites", cr_gap=1.0)


def test_dsprites_command_writes_the_original_layout(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(dsprites, "NUM_IMAGES", 100)  # the first 100 sprites rather than all 737,280
    main(["dsprites", "--out", str(tmp_path / "d.npz")])
    assert capsys.readouterr().out.strip() == str(tmp_path / "d.npz")
    with np.load(tmp_path / "d.npz") as archive:
        assert archive["imgs"].shape == (100, 64, 64)
        assert archive["latents_classes"].shape == (100, 6) and archive["latents_values"].dtype == np.float64
        assert list(archive["latents_names"]) == ["color", *dsprites.FACTOR_NAMES]


@pytest.mark.slow
def test_train_and_evaluate_disentanglement(sprites_file, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("INFOGAN_CACHE", str(tmp_path / "no-cache"))  # render on demand, no 3 GB cache
    run = tmp_path / "run"
    base = ["train", "--preset", "dsprites", "--data", str(sprites_file), "--batch-size", "8", "--out", str(run)]
    main([*base, "--steps", "2", "--cr-weight", "1", "--cr-start", "1", "--cr-gap", "0.5", "--cr-gap-steps", "1"])
    lines = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    assert "loss_cr" in lines[0]
    capsys.readouterr()
    report_file = tmp_path / "scores.json"
    evaluate = ["evaluate", str(run), "--disentanglement", "--scale", "0.01", "--classifier-steps", "5"]
    main([*evaluate, "--metrics", "information", "--samples", "20", "--out", str(report_file)])
    report = json.loads(report_file.read_text())
    scores = {**report["values"], "step": report["step"]}
    for key in (
        "mig",
        "factor_vae_eval_accuracy",
        "dci_disentanglement",
        "dci_completeness",
        "sap",
        "shape_inception_score",
        "shape_confidence",
        "shape_mode_kl",
        "shape_classifier_real_accuracy",
    ):
        assert np.isfinite(scores[key]), key
    assert 1 - 1e-9 <= scores["shape_inception_score"] <= 3 + 1e-9 and scores["step"] == 2
    assert "mig" in capsys.readouterr().out


def test_evaluate_refuses_a_model_that_is_not_a_dsprites_one(tmp_path):
    config = TrainConfig()
    with pytest.raises(InfoGANError, match="--preset dsprites"):
        check_dsprites_model(Run(config, build_model(config), tmp_path, 0))
    with pytest.raises(SystemExit):
        main(["evaluate", str(tmp_path)])  # nothing chosen to measure


def test_shape_scores_closed_forms():
    confident = np.repeat(np.eye(3), 10, axis=0)  # every image one shape, shapes balanced
    assert shape_scores(confident) == pytest.approx(
        {"shape_inception_score": 3.0, "shape_confidence": 1.0, "shape_mode_kl": 0.0}
    )
    unsure = np.full((30, 3), 1 / 3)
    assert shape_scores(unsure)["shape_inception_score"] == pytest.approx(1.0)
    assert shape_scores(unsure)["shape_confidence"] == pytest.approx(1 / 3)
    collapsed = np.tile([0.9, 0.05, 0.05], (30, 1))  # one shape only: nothing to tell apart, full mode drop
    assert shape_scores(collapsed)["shape_inception_score"] == pytest.approx(1.0)
    assert shape_scores(collapsed)["shape_mode_kl"] == pytest.approx(np.log(3))


def test_budget_scales_sample_sizes_but_not_the_classifier():
    small = Budget().scaled(0.1)
    assert (small.num_train, small.num_eval, small.num_generated) == (1000, 500, 5000)
    assert small.classifier_steps == Budget().classifier_steps
    assert Budget().scaled(1e-6).num_test == 100
