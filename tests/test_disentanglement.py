"""Disentanglement metrics: helper maths against hand-computed values, and whole metrics on a synthetic
ground truth whose observations are the factors themselves, so codes can be built by hand."""

import logging

import numpy as np
import pytest

from infogan.data.dsprites import DSprites
from infogan.errors import InfoGANError
from infogan.metrics import disentanglement as dm

SIZES = (3, 6, 10)
SCALES = np.array([0.5, 3.0, 0.2])  # a different unit per factor, all big enough for SAP's C=0.01 SVMs
ORDER = [2, 0, 1]  # code d holds factor ORDER[d]


class FactorsAsObservations:
    """Ground truth whose observations are its factor classes as floats (n, F)."""

    def __init__(self, factor_sizes=SIZES):
        self.factor_sizes = tuple(factor_sizes)

    def sample(self, n, rng):
        factors = rng.integers(0, self.factor_sizes, size=(n, len(self.factor_sizes)))
        return factors, self.observe(factors, rng)

    def observe(self, factors, rng):
        return np.asarray(factors, dtype=np.float64)


def disentangled(observations):
    """One code per factor, each in its own unit, in shuffled order."""
    return (observations * SCALES)[:, ORDER]


def with_constant_first(observations):
    """The disentangled codes behind a constant code, which FactorVAE must prune."""
    return np.column_stack([np.full(len(observations), 7.0), disentangled(observations)])


def noise(observations):
    """Codes independent of the factors, yet a deterministic function of the observations."""
    return np.random.default_rng(int(observations.sum()) + len(observations)).normal(size=(len(observations), 3))


# --- helper maths -----------------------------------------------------------------------------------


def test_discrete_entropy_is_in_nats():
    assert dm.discrete_entropy(np.array([0, 0, 1, 1])) == pytest.approx(np.log(2))
    assert dm.discrete_entropy(np.array([5, 5, 5, 9])) == pytest.approx(-(0.75 * np.log(0.75) + 0.25 * np.log(0.25)))
    assert dm.discrete_entropy(np.array([4, 4, 4])) == 0.0


def test_discretise_uses_equal_width_bins_over_each_dimension():
    codes = np.array([[0.0, 3.0], [0.5, 3.0], [2.6, 3.0], [10.0, 3.0]])
    binned = dm.discretise(codes, num_bins=4)
    # Column 0 has edges 0, 2.5, 5, 7.5, 10: the maximum lands in the last bin, not past it.
    np.testing.assert_array_equal(binned[:, 0], [1, 1, 2, 4])
    assert len(np.unique(binned[:, 1])) == 1  # a constant code falls in a single bin
    binned = dm.discretise(np.random.default_rng(0).normal(size=(500, 3)))
    assert binned.min() == 1 and binned.max() == 20


def test_top_two_gap_per_column():
    scores = np.array([[0.1, 0.9], [0.7, 0.2], [0.3, 0.4]])
    np.testing.assert_allclose(dm.top_two_gap(scores), [0.4, 0.5])


def test_mig_on_a_balanced_grid_is_exact():
    # Two binary factors over all four combinations: each code has full information about its factor
    # and exactly none about the other.
    factors = np.array([[0, 0], [0, 1], [1, 0], [1, 1]] * 5)
    np.testing.assert_allclose(dm.mutual_information(factors, factors), np.log(2) * np.eye(2), atol=1e-12)
    assert dm.mig_from_codes(factors.astype(float), factors) == pytest.approx(1.0)
    # Copying factor 0 into a second code closes its gap: (0 + 1) / 2.
    copied = factors[:, [0, 0, 1]].astype(float)
    assert dm.mig_from_codes(copied, factors) == pytest.approx(0.5)


def test_mig_refuses_a_factor_that_never_varies():
    factors = np.column_stack([np.zeros(10, dtype=int), np.arange(10) % 2])
    with pytest.raises(InfoGANError):
        dm.mig_from_codes(np.random.default_rng(0).normal(size=(10, 2)), factors)


def test_majority_vote_accuracy():
    train = np.array([[5, 0, 1], [1, 3, 0]])  # codes 0 and 2 vote factor 0, code 1 factor 1
    evaluation = np.array([[2, 1, 0], [2, 2, 3]])
    assert dm.majority_vote_accuracy(train, evaluation) == pytest.approx((9 / 10, 4 / 10))


def test_dci_scores_by_hand():
    # Code 0 serves factor 0 only; code 1 splits evenly between both factors.
    importance = np.array([[1.0, 0.0], [0.5, 0.5]])
    assert dm.dci_disentanglement(importance) == pytest.approx(0.5 * 1 + 0.5 * 0)
    # Factor 0 is spread 2:1 over the codes, factor 1 sits in code 1 only; weights 0.75 and 0.25.
    spread = 1 + (2 / 3) * np.log2(2 / 3) + (1 / 3) * np.log2(1 / 3)
    assert dm.dci_completeness(importance) == pytest.approx(0.75 * spread + 0.25 * 1)
    assert dm.dci_disentanglement(np.eye(3)) == pytest.approx(1.0)
    assert dm.dci_disentanglement(np.ones((3, 3))) == pytest.approx(0.0)
    assert dm.dci_completeness(np.zeros((2, 3))) == pytest.approx(0.0)


def test_sap_matrix_on_binary_factors():
    # A single code separates its own binary factor perfectly and the other at chance, so SAP ~ 0.5.
    rng = np.random.default_rng(0)
    train, test = rng.integers(0, 2, size=(2000, 2)), rng.integers(0, 2, size=(1000, 2))
    scores = dm.sap_score_matrix(train.astype(float), train, test.astype(float), test)
    np.testing.assert_allclose(np.diag(scores), 1.0)
    np.testing.assert_allclose(scores[[0, 1], [1, 0]], 0.5, atol=0.05)
    assert dm.sap_from_codes(train.astype(float), train, test.astype(float), test) == pytest.approx(0.5, abs=0.05)


# --- whole metrics on the synthetic ground truth ----------------------------------------------------


def test_disentangled_codes_score_near_one():
    truth = FactorsAsObservations()
    # Each factor lands in bins of its own, so MI = H(factor); only the sampling bias of ~0.004 in the
    # MI with the other codes keeps MIG below 1.
    assert dm.compute_mig(truth, disentangled, 0, num_train=2000)["mig"] > 0.98
    factor_vae = dm.compute_factor_vae(truth, disentangled, 1, num_train=300, num_eval=300, num_variance_estimate=1000)
    assert factor_vae == {
        "factor_vae_train_accuracy": 1.0,
        "factor_vae_eval_accuracy": 1.0,
        "factor_vae_num_active_dims": 3.0,
    }
    dci = dm.compute_dci(truth, disentangled, 2, num_train=500, num_test=300)
    assert dci["dci_disentanglement"] > 0.95 and dci["dci_completeness"] > 0.95
    assert dci["dci_informativeness_train"] == 1.0 and dci["dci_informativeness_test"] == 1.0


def test_sap_of_disentangled_codes_is_what_single_code_svms_allow():
    # A linear one-vs-rest SVM on one code cannot pick out the middle classes of a factor, so even a
    # perfect code predicts a 6- or 10-class factor well below 100%: SAP peaks near 0.35 for these
    # factors (1.0, 0.46 and 0.31 accuracy for the right code vs 0.33, 0.17 and 0.12 for the best
    # wrong one). What must hold is that each factor is best predicted by its own code.
    rng = np.random.default_rng(3)
    truth = FactorsAsObservations()
    factors_train, observations_train = truth.sample(2000, rng)
    factors_test, observations_test = truth.sample(1000, rng)
    scores = dm.sap_score_matrix(
        disentangled(observations_train), factors_train, disentangled(observations_test), factors_test
    )  # (D, F)
    np.testing.assert_array_equal(np.argmax(scores, axis=0), np.argsort(ORDER))
    assert dm.compute_sap(truth, disentangled, 3, num_train=2000, num_test=1000)["sap"] > 0.25


def test_independent_codes_score_near_zero():
    truth = FactorsAsObservations()
    assert dm.compute_mig(truth, noise, 0, num_train=2000)["mig"] < 0.05
    factor_vae = dm.compute_factor_vae(truth, noise, 1, num_train=300, num_eval=600, num_variance_estimate=1000)
    assert abs(factor_vae["factor_vae_eval_accuracy"] - 1 / 3) < 0.1  # chance among 3 factors
    dci = dm.compute_dci(truth, noise, 2, num_train=300, num_test=300)
    assert dci["dci_disentanglement"] < 0.1 and dci["dci_completeness"] < 0.1
    assert dci["dci_informativeness_test"] < 0.5  # near chance, while trees memorise the train set
    assert dm.compute_sap(truth, noise, 3, num_train=2000, num_test=1000)["sap"] < 0.1


def test_factor_vae_votes_name_the_right_code_after_a_pruned_one():
    # disentanglement_lib took the argmin among active codes as the code's index; with a constant
    # code 0 pruned, its votes would land one column too far left. Here they must land on the code
    # that holds the fixed factor, and code 0 must get none.
    truth = FactorsAsObservations()
    result = dm.compute_factor_vae(
        truth, with_constant_first, 4, num_train=300, num_eval=300, num_variance_estimate=1000
    )
    assert result["factor_vae_eval_accuracy"] == 1.0
    assert result["factor_vae_num_active_dims"] == 3.0
    global_std = np.array([0.0, 1.0, 1.0, 1.0])
    votes = dm.factor_vae_votes(
        truth, with_constant_first, np.random.default_rng(5), 200, 64, global_std, global_std > 0.05
    )  # (F, D)
    assert votes.sum() == 200 and votes[:, 0].sum() == 0
    for code, factor in enumerate(ORDER, start=1):
        assert votes[factor].sum() == votes[factor, code]


def test_factor_vae_with_no_active_code_scores_zero(caplog):
    constant = lambda observations: np.zeros((len(observations), 3))  # noqa: E731
    with caplog.at_level(logging.WARNING):
        result = dm.compute_factor_vae(FactorsAsObservations(), constant, 0, num_variance_estimate=100)
    assert result == {
        "factor_vae_train_accuracy": 0.0,
        "factor_vae_eval_accuracy": 0.0,
        "factor_vae_num_active_dims": 0.0,
    }
    assert "std below" in caplog.text


def test_all_scores_at_once_and_reproducibly():
    truth = FactorsAsObservations()
    sizes = {"num_train": 200, "num_test": 100, "num_eval": 100, "num_variance_estimate": 200}
    scores = dm.disentanglement_scores(truth, disentangled, 7, **sizes)
    assert set(scores) == {
        "mig",
        "factor_vae_train_accuracy",
        "factor_vae_eval_accuracy",
        "factor_vae_num_active_dims",
        "dci_disentanglement",
        "dci_completeness",
        "dci_informativeness_train",
        "dci_informativeness_test",
        "sap",
    }
    assert all(isinstance(value, float) for value in scores.values())
    assert dm.disentanglement_scores(truth, disentangled, 7, **sizes) == scores


def test_bad_representations_and_ground_truths_are_refused():
    truth = FactorsAsObservations()
    with pytest.raises(InfoGANError):
        dm.compute_mig(truth, lambda observations: observations[:, 0], 0, num_train=100)
    with pytest.raises(InfoGANError):
        dm.compute_mig(truth, lambda observations: observations[:, :1], 0, num_train=100)
    with pytest.raises(InfoGANError):
        dm.compute_mig(truth, lambda observations: np.full(observations.shape, np.nan), 0, num_train=100)
    with pytest.raises(InfoGANError):
        dm.compute_mig(FactorsAsObservations((4,)), disentangled, 0, num_train=100)


def test_dsprites_is_a_ground_truth():
    # Hand-made codes from the images: the centroid tracks posX and posY, the area tracks scale.
    def centroid_and_area(images):
        rows, cols = np.indices(images.shape[1:])
        area = images.sum(axis=(1, 2))
        return np.column_stack([(images * cols).sum(axis=(1, 2)) / area, (images * rows).sum(axis=(1, 2)) / area, area])

    data = DSprites()
    mig = dm.compute_mig(data, centroid_and_area, 0, num_train=1000)["mig"]
    # posX and posY each fill 20 bins out of 32 classes (MI gap <= log 20 / log 32 = 0.86); shape,
    # scale and orientation add little, so MIG sits near 2 x 0.8 / 5.
    assert 0.25 < mig < 0.5
    result = dm.compute_factor_vae(data, centroid_and_area, 1, num_train=50, num_eval=50, num_variance_estimate=500)
    assert result["factor_vae_num_active_dims"] == 3.0


def test_the_budget_counts_the_images_the_scores_encode():
    from infogan.metrics.disentanglement_eval import Budget

    budget = Budget(num_train=30, num_test=20, num_eval=10, num_variance_estimate=40)
    seen = []

    def counting(observations):
        seen.append(len(observations))
        return disentangled(observations)

    sizes = {"num_train": 30, "num_test": 20, "num_eval": 10, "num_variance_estimate": 40}
    dm.disentanglement_scores(FactorsAsObservations(), counting, 0, **sizes)
    assert sum(seen) == budget.lookups
    assert Budget().lookups > len(DSprites()) > Budget().scaled(0.1).lookups  # full size: encode every sprite once


def test_an_encoded_grid_draws_what_dsprites_draws_and_reads_codes_from_its_table():
    from infogan.data.dsprites import classes_to_values, index_to_classes
    from infogan.metrics.disentanglement_eval import EncodedGrid

    table = classes_to_values(index_to_classes(np.arange(len(DSprites()))))  # codes = the factor values
    grid, sprites = EncodedGrid(table), DSprites()
    classes, indices = grid.sample(50, np.random.default_rng(3))
    sprite_classes, images = sprites.sample(50, np.random.default_rng(3))
    np.testing.assert_array_equal(classes, sprite_classes)
    np.testing.assert_array_equal(sprites.images(indices), images)
    np.testing.assert_array_equal(grid.represent(indices), classes_to_values(classes))
    # each code is one factor, so the fixed factor's code never varies within a vote
    result = dm.compute_factor_vae(grid, grid.represent, 1, num_train=50, num_eval=50, num_variance_estimate=500)
    assert result["factor_vae_eval_accuracy"] == 1.0 and result["factor_vae_num_active_dims"] == 5.0
