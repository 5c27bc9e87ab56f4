"""The metric `attributes`: the AUC and NMI maths against sklearn and hand-computed values, the categorical
sweep, categorical code effects on hand-made arrays and through a fake generator wired to a fake attribute,
Q's reading of real faces beside chance, and the metric end to end through `infogan evaluate` on a
CelebA-like folder the tests generate."""

import json
import logging

import numpy as np
import pytest
import torch
from conftest import CELEBA_ATTRIBUTE_NAMES, celeba_attribute_lines, write_images
from PIL import Image
from scipy.stats import rankdata
from sklearn.metrics import normalized_mutual_info_score, roc_auc_score

import infogan.metrics
from infogan.cli import main
from infogan.config import TrainConfig
from infogan.latent import Latent, LatentSpec, category_sweep_latent
from infogan.metrics.attributes import (
    TIED,
    best_value_auc,
    code_table,
    describe,
    partition_nmi,
    real_reading,
    strongest,
    tied,
    traits,
)
from infogan.metrics.code_effects import CategoryEffect, category_effect, category_effects, code_effects
from infogan.metrics.domain_classifier import auc, rank_auc, save_classifier, train_classifier

# ------------------------------------------------------------------ AUC and NMI


def test_auc_of_the_textbook_example():
    """sklearn's docstring example: 3 of the 4 (positive, negative) pairs are ordered right."""
    scores = np.array([[0.1], [0.4], [0.35], [0.8]])
    assert auc(scores, np.array([[0], [0], [1], [1]])).tolist() == [0.75]


def test_auc_and_rank_auc_match_sklearn_with_ties_and_give_one_class_columns_one_half():
    rng = np.random.default_rng(0)
    scores = rng.integers(0, 5, (300, 4)) / 4  # few distinct values: many ties
    targets = (rng.random((300, 4)) < [0.1, 0.5, 0.8, 0.3]).astype(np.uint8)
    targets[:, 3] = scores[:, 3] > 0.5  # a predictive column, ties across the threshold's sides too
    expected = [roc_auc_score(targets[:, a], scores[:, a]) for a in range(4)]
    np.testing.assert_allclose(auc(scores, targets), expected, atol=1e-12)
    every = rank_auc(rankdata(scores, axis=0), targets)  # (K, A): every score against every target
    assert every.shape == (4, 4)
    for k in range(4):
        for a in range(4):
            assert every[k, a] == pytest.approx(roc_auc_score(targets[:, a], scores[:, k]), abs=1e-12)
    one_class = np.stack([np.zeros(300), np.ones(300)], 1).astype(np.uint8)  # all absent, all present
    assert auc(scores[:, :2], one_class).tolist() == [0.5, 0.5]


def test_best_value_auc_picks_the_value_and_reads_either_direction():
    """Value 1's probability is high when the attribute is absent: it predicts the attribute best, with AUC
    1 - (its AUC) > 0.5; value 2 predicts it weakly the right way round; value 0 is noise."""
    rng = np.random.default_rng(1)
    present = rng.random(400) < 0.4
    scores = np.stack(
        [rng.random(400), np.where(present, 0.2, 0.7) + 0.6 * rng.random(400), present + 3 * rng.random(400)], 1
    )
    targets = np.stack([present, rng.random(400) < 0.5], 1).astype(np.uint8)
    areas, value = best_value_auc(rankdata(scores, axis=0), targets)
    assert value[0] == 1 and areas[0] == pytest.approx(1 - roc_auc_score(present, scores[:, 1]), abs=1e-12)
    assert 0.85 < areas[0] < 1
    assert roc_auc_score(present, scores[:, 2]) < areas[0]  # value 2 is right-way round but weaker
    assert 0.5 <= areas[1] < 0.6  # the attribute no value predicts


def test_partition_nmi_one_for_the_attribute_itself_and_about_zero_for_an_independent_partition():
    rng = np.random.default_rng(2)
    attribute = (rng.random(2000) < 0.3).astype(np.uint8)
    independent = rng.integers(0, 10, 2000)
    targets = np.stack([attribute, attribute], 1)
    relabelled = np.where(attribute == 1, 7, 3)  # the same partition under other value names
    np.testing.assert_allclose(partition_nmi(relabelled, targets), [1, 1], atol=1e-12)
    assert (partition_nmi(independent, targets) < 0.01).all()


def test_partition_nmi_matches_sklearn_with_its_edge_cases():
    rng = np.random.default_rng(3)
    for n, k in [(7, 3), (50, 10), (200, 4), (30, 1), (1, 1)]:
        partition = rng.integers(0, k, n) * 2 + 1
        targets = (rng.random((n, 5)) < [0.1, 0.5, 0.9, 0, 1]).astype(np.uint8)  # two one-class columns
        expected = [normalized_mutual_info_score(column, partition) for column in targets.T]
        np.testing.assert_allclose(partition_nmi(partition, targets), expected, atol=1e-12, err_msg=f"{n}, {k}")


# ------------------------------------------------------------------ the categorical sweep


def test_category_sweep_latent_gives_every_value_once_with_the_rest_fixed():
    spec = LatentSpec(noise=5, categorical=(3, 4), continuous=2)
    latent = category_sweep_latent(spec, 1, 6, torch.Generator().manual_seed(0))
    assert latent.noise.shape == (24, 5) and latent.categorical.shape == (24, 2) and latent.continuous.shape == (24, 2)
    assert torch.equal(latent.categorical[:, 1].view(6, 4), torch.arange(4).expand(6, 4))  # each value once
    for part in (latent.noise.view(6, 4, 5), latent.continuous.view(6, 4, 2), latent.categorical[:, :1].view(6, 4, 1)):
        assert torch.equal(part, part[:, :1].expand_as(part))  # fixed within a latent
    assert len(set(latent.noise[::4, 0].tolist())) == 6  # and drawn afresh for each latent
    again = category_sweep_latent(spec, 1, 6, torch.Generator().manual_seed(0))
    assert torch.equal(again.noise, latent.noise) and torch.equal(again.categorical, latent.categorical)


@pytest.mark.parametrize(("categorical", "code"), [((3, 4), 2), ((3, 4), -1), ((), 0)])
def test_category_sweep_latent_refuses_a_code_that_does_not_exist(categorical, code):
    spec = LatentSpec(noise=5, categorical=categorical, continuous=1)
    with pytest.raises(ValueError, match=f"categorical code {code} does not exist"):
        category_sweep_latent(spec, code, 2, torch.Generator().manual_seed(0))


# ------------------------------------------------------------------ categorical code effects


def test_category_effect_of_hand_made_measurements():
    measured = {
        "moved": np.array([[0.1, 0.9, 0.5], [0.3, 0.9, 0.5], [0.2, 0.9, 0.5], [0.2, 0.9, 0.5]]),  # means .2 .9 .5
        "still": np.full((4, 3), 0.4),
    }
    effect = category_effect("cat2", measured, np.random.default_rng(0))
    assert effect.spread["moved"] == pytest.approx(0.7) and effect.spread["still"] == 0
    assert (effect.high["moved"], effect.low["moved"]) == (1, 0)
    assert effect.name == "moved" and effect.strongest(2) == ["moved", "still"] and effect.clear
    assert 0 < effect.chance < 0.7  # shuffled within the latents, the four rows mix their values
    assert effect.describe().startswith("cat2: moved (0.7 from value 0 to 1; chance ")


def test_a_categorical_code_wired_to_nothing_stays_at_chance():
    rng = np.random.default_rng(4)
    measured = {name: rng.normal(0.5, 0.05, (200, 10)) for name in ("a", "b", "c")}
    effect = category_effect("cat0", measured, np.random.default_rng(0))
    assert 0 < effect.chance < 0.03  # 10 means of 200 draws with sd 0.05: a spread of about 0.01
    assert not effect.clear and effect.describe().endswith(", weak")


def fake_face_generator():
    """A 'generator' whose categorical code 1 puts on glasses for its values 5 to 9, and a 'classifier' that
    reads the glasses exactly and Smiling as noise, fresh for every image: code 0 is wired to nothing."""

    def render(latent: Latent) -> torch.Tensor:
        glasses = (latent.categorical[:, 1] >= 5).float()
        noise = torch.rand(len(latent), generator=torch.Generator().manual_seed(len(latent)))
        return torch.stack([glasses, noise], 1).view(-1, 2, 1, 1) * 2 - 1  # (N, 2, 1, 1) in [-1, 1]

    def measure(images: torch.Tensor) -> dict[str, np.ndarray]:
        return {"Eyeglasses": (images[:, 0, 0, 0].numpy() + 1) / 2, "Smiling": (images[:, 1, 0, 0].numpy() + 1) / 2}

    return render, measure


def test_a_code_wired_to_glasses_is_named_by_them_and_one_wired_to_nothing_is_at_chance():
    spec = LatentSpec(noise=3, categorical=(10, 10), continuous=0)
    render, measure = fake_face_generator()
    idle, glasses = category_effects(spec, render, measure, seed=0, latents=60)
    assert glasses.code == "cat1" and glasses.name == "Eyeglasses" and glasses.clear
    assert glasses.spread["Eyeglasses"] == pytest.approx(1) and glasses.chance < 0.5
    assert glasses.high["Eyeglasses"] >= 5 > glasses.low["Eyeglasses"]
    assert idle.code == "cat0" and idle.spread["Eyeglasses"] == 0  # each latent keeps its own cat1
    assert not idle.clear and 0 < idle.chance < 0.25
    assert idle.spread["Smiling"] <= idle.chance


# ------------------------------------------------------------------ Q's reading of real faces


def test_real_reading_of_a_perfect_and_of_a_random_score():
    rng = np.random.default_rng(5)
    present = rng.random(300) < 0.4
    targets = np.stack([present, rng.random(300) < 0.5, rng.random(300) < 0.2], 1).astype(np.uint8)
    perfect = np.full((300, 4), 0.1)
    perfect[present, 2] = 0.7  # Q's value 2 on exactly the faces with attribute 0
    perfect[~present, 0] = 0.7
    reading = real_reading(perfect, targets, np.random.default_rng(0))
    assert set(reading) == {"auc", "value", "auc_chance", "nmi", "nmi_chance"}
    assert reading["auc"][0] == 1 and reading["value"][0] in (0, 2) and reading["auc_chance"][0] < 0.7
    assert reading["nmi"][0] > 0.9 > 0.1 > reading["nmi_chance"][0]

    noise = rng.dirichlet(np.ones(4), 300)  # a 4-way code that reads nothing
    reading = real_reading(noise, targets, np.random.default_rng(0))
    assert (reading["auc"] >= 0.5).all() and (reading["auc"] <= reading["auc_chance"]).all()
    assert (reading["auc_chance"] < 0.65).all() and (reading["nmi"] <= reading["nmi_chance"]).all()

    continuous = real_reading(present[:, None] + rng.normal(0, 0.1, (300, 1)), targets, np.random.default_rng(0))
    assert set(continuous) == {"auc", "value", "auc_chance"}  # no partition: no NMI
    assert continuous["auc"][0] == 1 and (continuous["value"] == 0).all()


# ------------------------------------------------------------------ the report's table


def hand_table() -> dict:
    effect = CategoryEffect(
        "cat0",
        spread={"Eyeglasses": 0.4, "Smiling": 0.3, "Male": 0.1, "Young": 0.05},
        high={"Eyeglasses": 7, "Smiling": 1, "Male": 2, "Young": 3},
        low={"Eyeglasses": 2, "Smiling": 4, "Male": 0, "Young": 0},
        chance=0.05,
    )
    weak = CategoryEffect("cat1", *(dict.fromkeys(effect.spread, value) for value in (0.2, 0, 1)), chance=0.01)
    reading = {
        code: {"auc": np.array([0.71, 0.6, 0.5, 0.55]), "value": np.array([7, 1, 0, 0]), "auc_chance": np.full(4, 0.53)}
        for code in ("cat0", "cat1")
    }
    return code_table([effect, weak], reading, ["Eyeglasses", "Smiling", "Male", "Young"])


def test_code_table_ties_codes_only_from_an_effect_of_a_quarter_above_chance():
    table = hand_table()
    row = table["cat0"]["attributes"]["Eyeglasses"]
    assert row == {"effect": 0.4, "low_value": 2, "high_value": 7, "auc": 0.71, "auc_chance": 0.53, "real_value": 7}
    assert table["cat0"]["effect_chance"] == 0.05 and strongest(table, "cat0") == ["Eyeglasses", "Smiling", "Male"]
    assert tied(table, "cat0") == "Eyeglasses" and tied(table, "cat1") is None  # 0.2 < TIED
    assert TIED == 0.25
    table["cat0"]["effect_chance"] = 0.45
    assert tied(table, "cat0") is None  # strong but not above chance
    assert describe(hand_table(), "cat0") == (
        "cat0: Eyeglasses +0.40 (real AUC 0.71 vs chance 0.53), Smiling +0.30 (real AUC 0.60 vs chance 0.53), "
        "Male +0.10 (real AUC 0.50 vs chance 0.53); effect chance 0.05"
    )


def test_correlated_attributes_are_one_trait_transitively_and_a_constant_one_is_its_own():
    rng = np.random.default_rng(0)
    a = rng.integers(0, 2, 1000)
    noisy = np.where(rng.random(1000) < 0.1, 1 - a, a)  # r about 0.8 with a
    b = np.where(rng.random(1000) < 0.1, 1 - noisy, noisy)  # r about 0.64 with a, 0.8 with noisy
    independent = rng.integers(0, 2, 1000)
    targets = np.stack([a, 1 - noisy, independent, np.zeros(1000, int), b], axis=1)  # anti-correlation counts too
    labels = traits(targets)
    assert labels[0] == labels[1] == labels[4]
    assert len({labels[0], labels[2], labels[3]}) == 3


def test_a_continuous_codes_chance_is_in_probability_like_its_effect():
    """cont0 raises Smiling by 0.05 from -1 to 1 on every face, give or take 0.01: a small effect, but far
    above what a shuffled traversal gives."""
    spec = LatentSpec(noise=3, categorical=(), continuous=1)

    def render(latent: Latent) -> torch.Tensor:
        noise = torch.rand(len(latent), generator=torch.Generator().manual_seed(0))
        return (0.5 + 0.025 * latent.continuous[:, :1] + 0.01 * noise[:, None]).view(-1, 1, 1, 1)

    (effect,) = code_effects(spec, render, lambda images: {"Smiling": images.flatten().numpy()}, latents=20)
    reading = {"cont0": {"auc": np.array([0.5]), "value": np.array([0]), "auc_chance": np.array([0.6])}}
    table = code_table([effect], reading, ["Smiling"])
    assert table["cont0"]["attributes"]["Smiling"]["effect"] == pytest.approx(0.05, abs=0.005)
    assert table["cont0"]["effect_chance"] < 0.02  # a shuffled traversal's |change|, in probability
    assert effect.chance > 0.1  # |rho|'s chance, which the table used to show and compare against 0.05


# ------------------------------------------------------------------ end to end


@pytest.fixture(scope="module")
def faces(module_tmp):
    """40 CelebA-like half-size faces with random attributes in list_attr_celeba.txt: 8 are held out."""
    root = module_tmp("celeba")
    write_images(root / "img_align_celeba", 40, (89, 109), "RGB", ".jpg")
    table = np.random.default_rng(0).integers(0, 2, (40, 40))
    lines = celeba_attribute_lines([f"{i:06d}.jpg" for i in range(40)], table)
    (root / "list_attr_celeba.txt").write_text("\n".join(lines) + "\n")
    return root


@pytest.fixture(scope="module")
def face_run(module_tmp, faces):
    """The celeba preset for 2 steps, with two small categorical codes and a continuous one (the metric
    reads both kinds), and an attribute classifier trained on 16 faces."""
    root = module_tmp("face-run")
    main(["train", "--preset", "celeba", "--data", str(faces), "--out", str(root / "run"), "--steps", "2",
          "--batch-size", "8", "--categorical", "3", "4", "--continuous", "1"])  # fmt: skip
    config = TrainConfig(dataset="celeba", data_dir=str(faces), image_size=32, channels=3)
    classifier = train_classifier(config, str(faces), epochs=1, max_train=16)
    save_classifier(classifier, root / "classifiers")
    return root / "run", root / "classifiers", classifier


def test_evaluate_reports_what_each_code_does_to_faces(face_run, faces, capsys):
    run, cache, classifier = face_run
    main(["evaluate", str(run), "--data", str(faces), "--metrics", "attributes", "--classifiers", str(cache),
          "--samples", "10", "--json"])  # fmt: skip
    report = json.loads(capsys.readouterr().out)
    assert report["skipped"] == {} and report["metrics"] == {"attributes": list(report["values"])}
    values = report["values"]
    assert values["attribute_classifier_auc"] == pytest.approx(classifier.test_score)
    assert 0 <= values["traits_tied"] <= values["codes_tied"] <= 3
    codes = ("cat0", "cat1", "cont0")
    for code in codes:
        assert values[f"{code}_effect"] >= 0 and values[f"{code}_effect_chance"] >= 0
        assert 0.5 <= values[f"{code}_real_auc"] <= 1 and 0.5 <= values[f"{code}_real_auc_chance"] <= 1
    assert len(values) == 3 + 4 * len(codes)
    assert "cat1: " in report["notes"]["attributes"] and "on the 8 faces" in report["notes"]["attributes"]
    saved = json.loads((run / "attributes.json").read_text())
    assert saved["tied_at"] == TIED and list(saved["codes"]) == list(codes)
    for code, kind in zip(codes, ("low_value", "low_value", "rho"), strict=True):
        rows = saved["codes"][code]["attributes"]
        assert list(rows) == CELEBA_ATTRIBUTE_NAMES
        assert all(kind in row and "auc_chance" in row for row in rows.values())
        assert ("nmi" in rows["Smiling"]) == code.startswith("cat")
    assert Image.open(run / "attributes.png").format == "PNG"
    assert sorted(report["files"]) == [str(run / "attributes.json"), str(run / "attributes.png")]


def test_evaluate_without_the_attribute_classifier_says_how_to_train_it(face_run, faces, tmp_path, capsys):
    run, _, _ = face_run
    main(["evaluate", str(run), "--data", str(faces), "--metrics", "attributes", "--classifiers", str(tmp_path),
          "--out", str(tmp_path / "e.json"), "--json"])  # fmt: skip
    reason = json.loads(capsys.readouterr().out)["skipped"]["attributes"]
    assert "infogan classifier --dataset celeba" in reason and "--image-size 32 --channels 3" in reason


def test_the_classifier_command_trains_the_attribute_classifier(faces, tmp_path, capsys):
    main(["classifier", "--dataset", "celeba", "--data", str(faces), "--image-size", "32", "--channels", "3",
          "--cache", str(tmp_path), "--epochs", "1"])  # fmt: skip
    printed = capsys.readouterr().out
    assert printed.startswith("held-out mean AUC over the attributes ") and "on the 8 faces of celeba" in printed
    assert len(list(tmp_path.glob("celeba-*-32px3c.pt"))) == 1


def test_on_digits_the_metric_is_left_out_silently_unless_named(tmp_path, mnist_dir, monkeypatch, capsys, caplog):
    run = tmp_path / "run"
    main(["train", "--data", str(mnist_dir), "--out", str(run), "--batch-size", "16", "--steps", "2"])
    chosen = {name: infogan.metrics.METRICS[name] for name in ("information", "attributes")}
    monkeypatch.setattr(infogan.metrics, "METRICS", chosen)  # "every metric": these two, to stay fast
    capsys.readouterr()
    with caplog.at_level(logging.INFO):
        main(["evaluate", str(run), "--samples", "10", "--json"])
    report = json.loads(capsys.readouterr().out)
    assert list(report["metrics"]) == ["information"] and report["skipped"] == {}
    assert not any("attributes" in record.getMessage() for record in caplog.records)
    main(["evaluate", str(run), "--samples", "10", "--metrics", "attributes", "--json"])
    reason = json.loads(capsys.readouterr().out)["skipped"]["attributes"]
    assert "--dataset celeba" in reason
