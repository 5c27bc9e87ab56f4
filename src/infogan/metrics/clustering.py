"""How well a categorical code clusters the data: accuracy under the best cluster-to-label match, NMI, ARI.

A categorical code is learned without labels, so code value 3 has no reason to mean digit 3. Accuracy is
therefore taken under the one-to-one matching of clusters to classes that agrees with the labels most
often (the Hungarian algorithm on the contingency matrix); NMI and ARI need no matching at all.
"""

import numpy as np
from scipy.optimize import linear_sum_assignment
from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score

from infogan.errors import InfoGANError


def _check_assignments(labels: np.ndarray, predictions: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Return both arrays as 1-D integer arrays of one length, or raise naming what is wrong."""
    labels, predictions = np.asarray(labels), np.asarray(predictions)
    if labels.ndim != 1 or predictions.ndim != 1:
        raise InfoGANError(f"labels and predictions must be 1-D, got shapes {labels.shape} and {predictions.shape}")
    if len(labels) != len(predictions):
        raise InfoGANError(f"got {len(labels)} labels but {len(predictions)} predictions; pass one of each per sample")
    if len(labels) == 0:
        raise InfoGANError("labels and predictions are empty; pass at least one sample")
    for name, values in (("labels", labels), ("predictions", predictions)):
        if not np.issubdtype(values.dtype, np.integer):
            raise InfoGANError(f"{name} must be integers, got dtype {values.dtype}")
    return labels, predictions


def confusion_matrix(labels: np.ndarray, predictions: np.ndarray, num_clusters: int, num_classes: int) -> np.ndarray:
    """Count samples per (cluster, class): entry [c, y] is how many samples of class y fell in cluster c.

    Sizes are given rather than inferred so that a cluster or class nobody landed in still gets its row or
    column, which keeps plots of different runs the same shape.
    """
    labels, predictions = _check_assignments(labels, predictions)
    if labels.min() < 0 or labels.max() >= num_classes:
        raise InfoGANError(f"labels must lie in [0, {num_classes}), got range [{labels.min()}, {labels.max()}]")
    if predictions.min() < 0 or predictions.max() >= num_clusters:
        low, high = predictions.min(), predictions.max()
        raise InfoGANError(f"predictions must lie in [0, {num_clusters}), got range [{low}, {high}]")
    # Flatten (cluster, class) to one index c * num_classes + y and count each once.
    flat = np.bincount(predictions * num_classes + labels, minlength=num_clusters * num_classes)
    return flat.reshape(num_clusters, num_classes)


def _matched_counts(labels: np.ndarray, predictions: np.ndarray) -> tuple[dict[int, int], int]:
    """Return the best cluster -> label matching and how many samples it gets right."""
    labels, predictions = _check_assignments(labels, predictions)
    # Renumber both to 0..n-1 so arbitrary integer values (e.g. labels {3, 7}) index the matrix.
    classes, label_index = np.unique(labels, return_inverse=True)
    clusters, cluster_index = np.unique(predictions, return_inverse=True)
    counts = confusion_matrix(label_index, cluster_index, len(clusters), len(classes))
    # Maximise matched samples = minimise their negative. A rectangular matrix matches min(rows, cols)
    # pairs, so with more clusters than classes the leftover clusters stay unmatched: their samples are wrong.
    rows, cols = linear_sum_assignment(-counts)
    mapping = {int(clusters[r]): int(classes[c]) for r, c in zip(rows, cols, strict=True)}
    return mapping, int(counts[rows, cols].sum())


def best_mapping(labels: np.ndarray, predictions: np.ndarray) -> dict[int, int]:
    """Map each predicted cluster to the label it stands for under the best one-to-one matching.

    Clusters left over when there are more clusters than classes are absent from the result.
    """
    return _matched_counts(labels, predictions)[0]


def cluster_accuracy(labels: np.ndarray, predictions: np.ndarray) -> float:
    """Fraction of samples whose cluster maps to their label: ACC = max_m (1/n) sum_i 1[y_i = m(c_i)]."""
    _, matched = _matched_counts(labels, predictions)
    return matched / len(labels)


def clustering_scores(labels: np.ndarray, predictions: np.ndarray) -> dict[str, float]:
    """Return {"acc", "nmi", "ari"}: matched accuracy, normalised mutual information, adjusted Rand index."""
    labels, predictions = _check_assignments(labels, predictions)
    return {
        "acc": cluster_accuracy(labels, predictions),
        "nmi": float(normalized_mutual_info_score(labels, predictions)),
        "ari": float(adjusted_rand_score(labels, predictions)),
    }
