"""How much several runs agree with each other, for choosing a run without labels.

ModelCentrality (Lin et al., "InfoGAN-CR", ICML 2020, section 5): score every pair of trained models
by how well one's codes match the other's, then rank each model by its mean similarity to the rest.
A seed that landed on the partition most seeds find scores high; an outlier scores low. For
categorical codes the similarity is the agreement of two runs' partitions of the same real images
(NMI or ARI: both need no matching of category numbers); the consensus partition pools every run's
votes (evidence accumulation, Fred & Jain 2005). Arrays in, numbers out.
"""

from __future__ import annotations

import numpy as np
from sklearn.cluster import KMeans
from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score

from infogan.errors import InfoGANError

SIMILARITIES = {"nmi": normalized_mutual_info_score, "ari": adjusted_rand_score}


def similarity_matrix(partitions: np.ndarray, measure: str = "nmi") -> np.ndarray:
    """(R, R) pairwise agreement of R partitions (R, N) of the same N images; 1 on the diagonal.

    NMI is symmetric and 1 exactly when two partitions are equal up to renumbering; ARI likewise,
    and 0 in expectation for independent random partitions.
    """
    partitions = np.asarray(partitions)
    if partitions.ndim != 2 or len(partitions) < 2:
        raise InfoGANError(f"agreement needs at least two partitions of the same images, got shape {partitions.shape}")
    if measure not in SIMILARITIES:
        raise InfoGANError(f"unknown similarity {measure!r}: choose from {', '.join(SIMILARITIES)}")
    score = SIMILARITIES[measure]
    runs = len(partitions)
    matrix = np.eye(runs)
    for i in range(runs):
        for j in range(i + 1, runs):
            matrix[i, j] = matrix[j, i] = score(partitions[i], partitions[j])
    return matrix


def centrality(similarity: np.ndarray) -> np.ndarray:
    """ModelCentrality (R,): each run's mean similarity to the other runs (the diagonal left out)."""
    similarity = np.asarray(similarity, dtype=np.float64)
    runs = len(similarity)
    if similarity.shape != (runs, runs) or runs < 2:
        raise InfoGANError(f"centrality needs a square matrix of at least two runs, got shape {similarity.shape}")
    return (similarity.sum(axis=1) - np.diag(similarity)) / (runs - 1)


def consensus_partition(partitions: np.ndarray, clusters: int, seed: int = 0) -> np.ndarray:
    """One partition (N,) of N images into `clusters` groups that agrees with R partitions (R, N) at once.

    Two images belong together as often as the runs put them together (the co-association matrix
    A = H H^T / R, with H (N, sum of K_r) every run's one-hot categories side by side). k-means on the
    rows of H groups images by the squared distance 2 (R - R A_ij), so it maximises co-association
    within groups without forming the N x N matrix.
    """
    partitions = np.asarray(partitions)
    if partitions.ndim != 2 or len(partitions) < 1:
        raise InfoGANError(f"a consensus needs partitions of shape (runs, images), got {partitions.shape}")
    one_hots = [np.eye(int(p.max()) + 1, dtype=np.float32)[p] for p in partitions]  # R x (N, K_r)
    features = np.concatenate(one_hots, axis=1)  # (N, sum K_r)
    clusters = min(clusters, len(np.unique(features, axis=0)))  # runs that agree on fewer groups give fewer
    return KMeans(clusters, n_init=10, random_state=seed).fit_predict(features)
