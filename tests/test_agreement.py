"""ModelCentrality's maths against hand-computed values and partitions whose agreement is known."""

import numpy as np
import pytest

from infogan.errors import InfoGANError
from infogan.metrics.agreement import centrality, consensus_partition, similarity_matrix


def noisy_copy(partition: np.ndarray, flip: float, rng: np.random.Generator, clusters: int = 5) -> np.ndarray:
    """The partition renumbered by a random permutation, with a share `flip` of images moved at random."""
    copy = rng.permutation(clusters)[partition]
    moved = rng.random(len(copy)) < flip
    copy[moved] = rng.integers(clusters, size=moved.sum())
    return copy


def test_identical_partitions_agree_fully_whatever_their_numbering():
    partition = np.repeat(np.arange(4), 25)
    renumbered = (partition + 1) % 4
    for measure in ("nmi", "ari"):
        matrix = similarity_matrix(np.stack([partition, renumbered, partition]), measure)
        np.testing.assert_allclose(matrix, np.ones((3, 3)))
        np.testing.assert_allclose(centrality(matrix), [1.0, 1.0, 1.0])


def test_centrality_is_the_mean_similarity_to_the_others():
    matrix = np.array([[1.0, 0.5, 0.2], [0.5, 1.0, 0.4], [0.2, 0.4, 1.0]])
    np.testing.assert_allclose(centrality(matrix), [0.35, 0.45, 0.30])


def test_the_run_that_disagrees_ranks_last():
    rng = np.random.default_rng(0)
    truth = rng.integers(5, size=2000)
    agreeing = [noisy_copy(truth, 0.1, rng) for _ in range(4)]
    outlier = rng.integers(5, size=2000)  # a partition unrelated to the others
    partitions = np.stack([agreeing[0], agreeing[1], outlier, agreeing[2], agreeing[3]])
    for measure in ("nmi", "ari"):
        scores = centrality(similarity_matrix(partitions, measure))
        assert np.argmin(scores) == 2
        assert scores[2] < 0.05 < 0.3 < scores[[0, 1, 3, 4]].min()


def test_the_consensus_of_noisy_copies_recovers_the_partition():
    rng = np.random.default_rng(1)
    truth = rng.integers(5, size=1000)
    copies = np.stack([noisy_copy(truth, 0.3, rng) for _ in range(7)])  # each keeps ~76% of images in place
    consensus = consensus_partition(copies, 5)
    single = similarity_matrix(np.stack([truth, copies[0]]))[0, 1]
    pooled = similarity_matrix(np.stack([truth, consensus]))[0, 1]
    assert pooled > 0.95 > single


def test_bad_shapes_and_measures_are_refused():
    with pytest.raises(InfoGANError, match="at least two partitions"):
        similarity_matrix(np.zeros((1, 10), dtype=int))
    with pytest.raises(InfoGANError, match="unknown similarity"):
        similarity_matrix(np.zeros((2, 10), dtype=int), "acc")
    with pytest.raises(InfoGANError, match="square"):
        centrality(np.ones((2, 3)))
