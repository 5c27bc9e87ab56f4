"""Clustering and sample-quality maths checked against answers worked out by hand or in closed form."""

import numpy as np
import pytest

from infogan.errors import InfoGANError
from infogan.metrics.clustering import (
    best_mapping,
    cluster_accuracy,
    clustering_scores,
    confusion_matrix,
    majority_rate,
)
from infogan.metrics.sample_quality import (
    classifier_score,
    frechet_distance,
    gaussian_statistics,
    precision_recall,
)

# ---------------------------------------------------------------- clustering


def test_permuted_perfect_clustering_scores_one():
    labels = np.array([0, 0, 1, 1, 2, 2, 2])
    predictions = np.array([2, 2, 0, 0, 1, 1, 1])  # cluster c stands for label (c + 1) % 3
    expected = {"acc": 1.0, "majority": 3 / 7, "nmi": 1.0, "ari": 1.0}
    assert clustering_scores(labels, predictions) == pytest.approx(expected)
    assert best_mapping(labels, predictions) == {2: 0, 0: 1, 1: 2}


def test_imperfect_clustering_matches_hand_count():
    labels = np.array([0, 0, 0, 1, 1, 1])
    predictions = np.array([1, 1, 0, 0, 0, 0])
    # Contingency [cluster, class]: cluster 0 -> (1, 3), cluster 1 -> (2, 0).
    # Matching 1->0, 0->1 gets 2 + 3 = 5 right; the other matching gets 1 + 0.
    assert best_mapping(labels, predictions) == {1: 0, 0: 1}
    assert cluster_accuracy(labels, predictions) == pytest.approx(5 / 6)


def test_the_majority_rate_is_what_one_category_for_everything_scores():
    labels = np.array([7, 3, 3, 3, 7, 3, 3, 3, 3])  # 7 of 9 are class 3: 1/K = 0.5 would flatter any code
    assert majority_rate(labels) == pytest.approx(7 / 9)
    everything_in_one = clustering_scores(labels, np.zeros(9, dtype=int))
    assert everything_in_one["acc"] == everything_in_one["majority"] == pytest.approx(7 / 9)
    assert everything_in_one["nmi"] == pytest.approx(0.0) and everything_in_one["ari"] == pytest.approx(0.0)


def test_more_clusters_than_classes_leaves_a_cluster_unmatched():
    labels = np.array([0, 0, 0, 1, 1, 1])
    predictions = np.array([0, 0, 1, 2, 2, 2])
    # 0->0 gets 2, 2->1 gets 3; cluster 1's single sample has no label left and counts as wrong.
    assert best_mapping(labels, predictions) == {0: 0, 2: 1}
    assert cluster_accuracy(labels, predictions) == pytest.approx(5 / 6)


def test_fewer_clusters_than_classes():
    labels = np.array([0, 1, 2, 0, 1, 2])
    predictions = np.zeros(6, dtype=int)
    # One cluster can stand for one class only: 2 of 6.
    assert cluster_accuracy(labels, predictions) == pytest.approx(1 / 3)


def test_arbitrary_integer_values_map_back_to_themselves():
    assert best_mapping(np.array([3, 3, 7, 7]), np.array([9, 9, 5, 5])) == {9: 3, 5: 7}


def test_confusion_matrix_counts_and_keeps_empty_rows():
    counts = confusion_matrix(np.array([0, 0, 1, 2]), np.array([1, 1, 0, 3]), num_clusters=4, num_classes=3)
    expected = np.array([[0, 1, 0], [2, 0, 0], [0, 0, 0], [0, 0, 1]])
    np.testing.assert_array_equal(counts, expected)


@pytest.mark.parametrize(
    ("labels", "predictions"),
    [
        (np.array([0, 1, 1]), np.array([0, 1])),  # lengths differ
        (np.array([[0, 1]]), np.array([[0, 1]])),  # not 1-D
        (np.array([0.0, 1.0]), np.array([0, 1])),  # not integers
        (np.array([], dtype=int), np.array([], dtype=int)),  # empty
    ],
)
def test_bad_assignments_raise(labels, predictions):
    with pytest.raises(InfoGANError):
        cluster_accuracy(labels, predictions)


def test_confusion_matrix_rejects_out_of_range_values():
    with pytest.raises(InfoGANError):
        confusion_matrix(np.array([0, 3]), np.array([0, 1]), num_clusters=2, num_classes=3)
    with pytest.raises(InfoGANError):
        confusion_matrix(np.array([0, 1]), np.array([0, -1]), num_clusters=2, num_classes=3)


# ---------------------------------------------------------------- Frechet distance


def test_gaussian_statistics_closed_form():
    mu, sigma = gaussian_statistics(np.array([[0.0, 0.0], [2.0, 2.0]]))
    np.testing.assert_allclose(mu, [1.0, 1.0])
    # Unbiased: (1^2 + 1^2) / (2 - 1) = 2 on every entry.
    np.testing.assert_allclose(sigma, [[2.0, 2.0], [2.0, 2.0]])
    assert gaussian_statistics(np.array([[1.0], [3.0]]))[1].shape == (1, 1)
    with pytest.raises(InfoGANError):
        gaussian_statistics(np.ones((1, 3)))


def test_frechet_distance_of_a_set_with_itself_is_zero():
    mu, sigma = gaussian_statistics(np.random.default_rng(0).normal(size=(200, 5)))
    assert frechet_distance(mu, sigma, mu, sigma) == pytest.approx(0.0, abs=1e-8)


def test_frechet_distance_of_diagonal_gaussians_matches_closed_form():
    mu1, var1 = np.array([0.0, 1.0, 2.0]), np.array([1.0, 4.0, 9.0])
    mu2, var2 = np.array([1.0, 1.0, 0.0]), np.array([4.0, 1.0, 0.25])
    # sum (m1 - m2)^2 + sum (s1 + s2 - 2 sqrt(s1 s2)) = 5 + (1 + 1 + 6.25)
    expected = np.sum((mu1 - mu2) ** 2) + np.sum(var1 + var2 - 2 * np.sqrt(var1 * var2))
    assert expected == pytest.approx(13.25)
    assert frechet_distance(mu1, np.diag(var1), mu2, np.diag(var2)) == pytest.approx(13.25)


def test_frechet_distance_of_one_dimensional_gaussians():
    # N(0, 1) vs N(3, 4): 9 + 1 + 4 - 2 * 2 = 10.
    assert frechet_distance(np.array(0.0), np.array(1.0), np.array(3.0), np.array(4.0)) == pytest.approx(10.0)


def test_frechet_distance_with_singular_covariances_stays_finite():
    # Both covariances are zero along the second axis: 1 + 4 - 2 * 2 = 1.
    singular = frechet_distance(np.zeros(2), np.diag([1.0, 0.0]), np.zeros(2), np.diag([4.0, 0.0]))
    assert singular == pytest.approx(1.0)
    # Three samples in ten dimensions give rank-2 covariances.
    rng = np.random.default_rng(1)
    mu1, sigma1 = gaussian_statistics(rng.normal(size=(3, 10)))
    mu2, sigma2 = gaussian_statistics(rng.normal(size=(3, 10)))
    assert np.isfinite(frechet_distance(mu1, sigma1, mu2, sigma2))


def test_frechet_distance_falls_back_to_offset_when_sqrtm_is_not_finite():
    # No pair of real covariances reliably breaks scipy's sqrtm, so feed a nilpotent product directly:
    # sqrtm([[0, 1], [0, 0]]) is inf. With the offset the root is of (1 + e) [[e, 1], [0, e]], whose trace is
    # sqrt(1 + e) * 2 sqrt(e); the distance is Tr(sigma1 + sigma2) - 2 * that = 2 - 4 sqrt(e (1 + e)).
    eps = 1e-6
    nilpotent, identity = np.array([[0.0, 1.0], [0.0, 0.0]]), np.eye(2)
    distance = frechet_distance(np.zeros(2), nilpotent, np.zeros(2), identity, eps=eps)
    assert distance == pytest.approx(2 - 4 * np.sqrt(eps * (1 + eps)))


def test_frechet_distance_rejects_a_large_imaginary_root_and_bad_shapes():
    with pytest.raises(InfoGANError, match="imaginary"):
        frechet_distance(np.zeros(2), np.diag([-1.0, 1.0]), np.zeros(2), np.eye(2))
    with pytest.raises(InfoGANError):
        frechet_distance(np.zeros(2), np.eye(2), np.zeros(3), np.eye(3))


# ---------------------------------------------------------------- precision and recall


def test_precision_recall_of_identical_sets_is_one():
    features = np.random.default_rng(2).normal(size=(60, 4))
    assert precision_recall(features, features.copy()) == {"precision": 1.0, "recall": 1.0}


def test_precision_recall_of_far_apart_sets_is_zero():
    rng = np.random.default_rng(3)
    real, fake = rng.normal(size=(40, 3)), rng.normal(size=(40, 3)) + 100.0
    assert precision_recall(real, fake) == {"precision": 0.0, "recall": 0.0}


def test_precision_recall_of_a_real_subset():
    real = np.arange(10.0)[:, None]  # 0, 1, ..., 9 on a line
    fake = real[[0, 2, 4]]
    # Every fake sample is a real one, so precision is 1. Fake 1-NN radii are all 2: the balls [-2, 2],
    # [0, 4], [2, 6] hold reals 0..6 (6 sits exactly on the closed ball's edge), so recall is 7/10.
    assert precision_recall(real, fake, k=1) == pytest.approx({"precision": 1.0, "recall": 0.7})


def test_precision_recall_hand_example_with_outliers():
    real = np.arange(10.0)[:, None]  # real 1-NN radii are all 1
    fake = np.array([[0.5], [4.2], [20.0], [30.0]])
    # Fakes 0.5 and 4.2 lie within 1 of a real point; 20 and 30 do not: precision 2/4.
    # Fake 1-NN radii 3.7, 3.7, 10, 10 give balls [-3.2, 4.2], [0.5, 7.9], [10, 30], [20, 40]:
    # reals 0..7 are covered, so recall is 8/10.
    assert precision_recall(real, fake, k=1) == pytest.approx({"precision": 0.5, "recall": 0.8})


def test_precision_recall_does_not_depend_on_batch_size():
    rng = np.random.default_rng(4)
    real, fake = rng.normal(size=(50, 3)), rng.normal(size=(45, 3)) + 0.5
    assert precision_recall(real, fake, batch_size=7) == precision_recall(real, fake, batch_size=1000)


def test_precision_recall_rejects_bad_input():
    with pytest.raises(InfoGANError):
        precision_recall(np.zeros((3, 2)), np.zeros((10, 2)), k=3)  # k-th neighbour needs k + 1 points
    with pytest.raises(InfoGANError):
        precision_recall(np.zeros((10, 2)), np.zeros((10, 3)))
    with pytest.raises(InfoGANError):
        precision_recall(np.zeros((10, 2)), np.zeros((10, 2)), k=0)


# ---------------------------------------------------------------- classifier score


@pytest.mark.parametrize("num_classes", [1, 2, 10])
def test_classifier_score_of_confident_even_predictions_is_the_class_count(num_classes):
    one_hot = np.tile(np.eye(num_classes), (3, 1))
    assert classifier_score(one_hot) == pytest.approx(num_classes)


def test_classifier_score_of_identical_rows_is_one():
    assert classifier_score(np.tile([0.2, 0.3, 0.5], (5, 1))) == pytest.approx(1.0)


def test_classifier_score_closed_form():
    # p(y) = (0.75, 0.25); KL rows: log(4/3) and 0.5 log(2/3) + 0.5 log 2 = 0.5 log(4/3); mean 0.75 log(4/3).
    assert classifier_score(np.array([[1.0, 0.0], [0.5, 0.5]])) == pytest.approx((4 / 3) ** 0.75)


@pytest.mark.parametrize(
    "probabilities",
    [np.ones(3) / 3, np.array([[0.5, 0.6]]), np.array([[1.5, -0.5]]), np.zeros((0, 2))],
)
def test_classifier_score_rejects_bad_input(probabilities):
    with pytest.raises(InfoGANError):
        classifier_score(probabilities)
