"""Supervised disentanglement metrics, with the defaults of google-research/disentanglement_lib.

Each metric scores a representation (a callable from observations to codes (n, D)) against a ground
truth whose factors of variation are known, e.g. `infogan.data.dsprites.DSprites`:
- MIG: per factor, the gap in mutual information between its two most informative codes.
- FactorVAE score: accuracy of a majority vote that names the fixed factor from the least varying code.
- DCI: disentanglement, completeness and informativeness from gradient-boosted-tree importances.
- SAP: per factor, the gap between the two codes that best predict it alone.
Every metric draws its own samples from an `np.random.Generator` (or seed) and returns
`{name: float}`; the `*_from_codes` functions do the maths on arrays.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Protocol

import numpy as np
from scipy.stats import entropy
from sklearn.ensemble import GradientBoostingClassifier
from sklearn.metrics import mutual_info_score
from sklearn.svm import LinearSVC

from infogan.errors import InfoGANError

log = logging.getLogger(__name__)

Representation = Callable[[np.ndarray], np.ndarray]  # observations (n, ...) -> codes (n, D)

# Observations passed to the representation at once, so a network's memory stays bounded.
_BATCH = 1024


class GroundTruth(Protocol):
    """Data with known factors: `sample` draws i.i.d. examples, `observe` renders chosen factors.

    FactorVAE needs `observe` to fix one factor in a batch; it draws the other factors uniformly, as
    disentanglement_lib does. `rng` lets noisy ground truths draw their noise.
    """

    factor_sizes: tuple[int, ...]

    def sample(self, n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        """Factor classes (n, F) int and their observations (n, ...)."""
        ...

    def observe(self, factors: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Observations (n, ...) of factor classes (n, F)."""
        ...


# ---------------------------------------------------------------------------------------------------
# Maths on arrays
# ---------------------------------------------------------------------------------------------------


def discrete_entropy(labels: np.ndarray) -> float:
    """Entropy in nats of the empirical distribution of integer labels (n,)."""
    _, counts = np.unique(labels, return_counts=True)
    return float(entropy(counts))


def discretise(codes: np.ndarray, num_bins: int = 20) -> np.ndarray:
    """Bin each code dimension of (n, D) into `num_bins` equal-width bins over its range: (n, D) in 1..num_bins."""
    binned = np.empty(codes.shape, dtype=np.int64)
    for dim, column in enumerate(codes.T):
        edges = np.histogram(column, num_bins)[1]  # (num_bins + 1,)
        binned[:, dim] = np.digitize(column, edges[:-1])  # the maximum falls in the last bin, not past it
    return binned


def mutual_information(discrete_codes: np.ndarray, factors: np.ndarray) -> np.ndarray:
    """Mutual information in nats (D, F) between each discrete code (n, D) and each factor (n, F)."""
    return np.array([[mutual_info_score(factor, code) for factor in factors.T] for code in discrete_codes.T])


def top_two_gap(scores: np.ndarray) -> np.ndarray:
    """Per column of scores (D, F), the best score minus the second best: (F,)."""
    ordered = np.sort(scores, axis=0)
    return ordered[-1] - ordered[-2]


def mig_from_codes(codes: np.ndarray, factors: np.ndarray, num_bins: int = 20) -> float:
    """Mutual information gap: mean over factors of top_two_gap(I(code; factor)) / H(factor)."""
    factor_entropy = np.array([discrete_entropy(factor) for factor in factors.T])  # (F,)
    if (factor_entropy == 0).any():
        raise InfoGANError("every factor must vary within the MIG sample; draw more samples (num_train)")
    information = mutual_information(discretise(codes, num_bins), factors)  # (D, F)
    return float(np.mean(top_two_gap(information) / factor_entropy))


def majority_vote_accuracy(train_votes: np.ndarray, eval_votes: np.ndarray) -> tuple[float, float]:
    """Train and eval accuracy of the classifier that maps each code to the factor it got most votes for.

    Votes (F, D) count how often fixing factor f made code d the least varying one.
    """
    classifier = np.argmax(train_votes, axis=0)  # (D,): the predicted factor of each code
    codes = np.arange(train_votes.shape[1])
    return (
        float(train_votes[classifier, codes].sum() / train_votes.sum()),
        float(eval_votes[classifier, codes].sum() / eval_votes.sum()),
    )


def _purity(importance: np.ndarray) -> float:
    """Mean over rows of 1 - entropy of the row (base = row length), weighted by each row's share."""
    per_row = 1.0 - entropy(importance.T + 1e-11, base=importance.shape[1])  # (rows,)
    if importance.sum() == 0:  # nothing is important: weigh the rows equally rather than divide by 0
        importance = np.ones_like(importance)
    weights = importance.sum(axis=1) / importance.sum()
    return float(np.sum(per_row * weights))


def dci_disentanglement(importance: np.ndarray) -> float:
    """How much each code (row of importance (D, F)) serves a single factor, weighted by its importance."""
    return _purity(importance)


def dci_completeness(importance: np.ndarray) -> float:
    """How much each factor (column of importance (D, F)) is captured by a single code."""
    return _purity(importance.T)


def gbt_importance(
    codes_train: np.ndarray,
    factors_train: np.ndarray,
    codes_test: np.ndarray,
    factors_test: np.ndarray,
    rng: np.random.Generator,
) -> tuple[np.ndarray, float, float]:
    """Importance (D, F) of each code for predicting each factor with gradient-boosted trees.

    Also returns the trees' mean train and test accuracy over factors (DCI's informativeness).
    """
    importance = np.empty((codes_train.shape[1], factors_train.shape[1]))
    train_accuracy, test_accuracy = [], []
    for factor, (train_labels, test_labels) in enumerate(zip(factors_train.T, factors_test.T, strict=True)):
        model = GradientBoostingClassifier(random_state=int(rng.integers(2**31)))
        model.fit(codes_train, train_labels)
        importance[:, factor] = np.abs(model.feature_importances_)
        train_accuracy.append(np.mean(model.predict(codes_train) == train_labels))
        test_accuracy.append(np.mean(model.predict(codes_test) == test_labels))
    return importance, float(np.mean(train_accuracy)), float(np.mean(test_accuracy))


def dci_from_codes(
    codes_train: np.ndarray,
    factors_train: np.ndarray,
    codes_test: np.ndarray,
    factors_test: np.ndarray,
    rng: np.random.Generator,
) -> dict[str, float]:
    """DCI scores from codes (n, D) and factors (n, F) split into train and test draws."""
    importance, train_accuracy, test_accuracy = gbt_importance(
        codes_train, factors_train, codes_test, factors_test, rng
    )
    return {
        "dci_disentanglement": dci_disentanglement(importance),
        "dci_completeness": dci_completeness(importance),
        "dci_informativeness_train": train_accuracy,
        "dci_informativeness_test": test_accuracy,
    }


def sap_score_matrix(
    codes_train: np.ndarray, factors_train: np.ndarray, codes_test: np.ndarray, factors_test: np.ndarray
) -> np.ndarray:
    """Test accuracy (D, F) of a linear SVM predicting each factor from each single code dimension."""
    scores = np.empty((codes_train.shape[1], factors_train.shape[1]))
    for dim in range(codes_train.shape[1]):
        for factor in range(factors_train.shape[1]):
            classifier = LinearSVC(C=0.01, class_weight="balanced")
            classifier.fit(codes_train[:, [dim]], factors_train[:, factor])
            scores[dim, factor] = np.mean(classifier.predict(codes_test[:, [dim]]) == factors_test[:, factor])
    return scores


def sap_from_codes(
    codes_train: np.ndarray, factors_train: np.ndarray, codes_test: np.ndarray, factors_test: np.ndarray
) -> float:
    """Separated attribute predictability: mean over factors of the top-two gap of SVM accuracies."""
    return float(np.mean(top_two_gap(sap_score_matrix(codes_train, factors_train, codes_test, factors_test))))


# ---------------------------------------------------------------------------------------------------
# Metrics on a ground truth and a representation
# ---------------------------------------------------------------------------------------------------


def _represent(represent: Representation, observations: np.ndarray) -> np.ndarray:
    """Codes (n, D) float64 of observations (n, ...), computed in batches of _BATCH."""
    codes = [
        np.asarray(represent(observations[start : start + _BATCH]), dtype=np.float64)
        for start in range(0, len(observations), _BATCH)
    ]
    codes = np.concatenate(codes)
    if codes.ndim != 2 or len(codes) != len(observations):
        raise InfoGANError(f"the representation must map n observations to codes (n, D), got {codes.shape}")
    if codes.shape[1] < 2:
        raise InfoGANError("disentanglement metrics need codes with at least two dimensions")
    if not np.isfinite(codes).all():
        raise InfoGANError("the representation returned NaN or infinite codes")
    return codes


def _sample_codes(
    ground_truth: GroundTruth, represent: Representation, n: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Draw n examples: their factor classes (n, F) and codes (n, D)."""
    if len(ground_truth.factor_sizes) < 2:
        raise InfoGANError("disentanglement metrics need a ground truth with at least two factors")
    factors, observations = ground_truth.sample(n, rng)
    return np.asarray(factors), _represent(represent, observations)


def compute_mig(
    ground_truth: GroundTruth,
    represent: Representation,
    rng: np.random.Generator | int,
    num_train: int = 10_000,
    num_bins: int = 20,
) -> dict[str, float]:
    """Mutual information gap on `num_train` draws, codes binned into `num_bins` bins per dimension."""
    factors, codes = _sample_codes(ground_truth, represent, num_train, np.random.default_rng(rng))
    return {"mig": mig_from_codes(codes, factors, num_bins)}


def factor_vae_votes(
    ground_truth: GroundTruth,
    represent: Representation,
    rng: np.random.Generator,
    num_votes: int,
    batch_size: int,
    global_std: np.ndarray,
    active: np.ndarray,
) -> np.ndarray:
    """Votes (F, D): for each vote, fix a random factor in a batch and name the code that varies least.

    Codes are divided by their global std (D,) so that scale does not decide; only the `active` (D,)
    codes compete. A code's votes show which factor it tracks.
    """
    sizes = np.array(ground_truth.factor_sizes)
    votes = np.zeros((len(sizes), len(global_std)), dtype=np.int64)
    active_dims = np.flatnonzero(active)  # (A,)
    votes_per_call = max(1, _BATCH // batch_size)  # several votes share one call of the representation
    for start in range(0, num_votes, votes_per_call):
        count = min(votes_per_call, num_votes - start)
        fixed = rng.integers(len(sizes), size=count)  # (count,): the factor each vote fixes
        factors = rng.integers(0, sizes, size=(count, batch_size, len(sizes)))
        factors[np.arange(count), :, fixed] = factors[np.arange(count), :1, fixed]
        observations = ground_truth.observe(factors.reshape(count * batch_size, -1), rng)
        codes = _represent(represent, observations).reshape(count, batch_size, -1)  # (count, batch, D)
        local_variance = np.var(codes[:, :, active_dims] / global_std[active_dims], axis=1, ddof=1)
        # argmin among the active codes, mapped back to the code's own index (disentanglement_lib
        # used the position among active codes as the index, which misnames codes after a pruned one).
        least_varying = active_dims[np.argmin(local_variance, axis=1)]  # (count,)
        np.add.at(votes, (fixed, least_varying), 1)
    return votes


def compute_factor_vae(
    ground_truth: GroundTruth,
    represent: Representation,
    rng: np.random.Generator | int,
    batch_size: int = 64,
    num_train: int = 10_000,
    num_eval: int = 5_000,
    num_variance_estimate: int = 10_000,
    prune_threshold: float = 0.05,
) -> dict[str, float]:
    """FactorVAE score: eval accuracy of a majority vote trained on `num_train` votes.

    Codes whose global std is below `prune_threshold` are pruned; with none left the score is 0.
    """
    if batch_size < 2:
        raise InfoGANError("the FactorVAE batch size must be at least 2 to measure a variance")
    rng = np.random.default_rng(rng)
    _, codes = _sample_codes(ground_truth, represent, num_variance_estimate, rng)
    global_std = np.std(codes, axis=0, ddof=1)  # (D,)
    active = global_std >= prune_threshold
    if not active.any():
        log.warning("FactorVAE score is 0: every code has std below %g, so no code can be chosen", prune_threshold)
        return {"factor_vae_train_accuracy": 0.0, "factor_vae_eval_accuracy": 0.0, "factor_vae_num_active_dims": 0.0}
    train_votes, eval_votes = (
        factor_vae_votes(ground_truth, represent, rng, num_votes, batch_size, global_std, active)
        for num_votes in (num_train, num_eval)
    )
    train_accuracy, eval_accuracy = majority_vote_accuracy(train_votes, eval_votes)
    return {
        "factor_vae_train_accuracy": train_accuracy,
        "factor_vae_eval_accuracy": eval_accuracy,
        "factor_vae_num_active_dims": float(active.sum()),
    }


def compute_dci(
    ground_truth: GroundTruth,
    represent: Representation,
    rng: np.random.Generator | int,
    num_train: int = 10_000,
    num_test: int = 5_000,
) -> dict[str, float]:
    """DCI disentanglement, completeness and informativeness from trees fitted on `num_train` draws."""
    rng = np.random.default_rng(rng)
    factors_train, codes_train = _sample_codes(ground_truth, represent, num_train, rng)
    factors_test, codes_test = _sample_codes(ground_truth, represent, num_test, rng)
    return dci_from_codes(codes_train, factors_train, codes_test, factors_test, rng)


def compute_sap(
    ground_truth: GroundTruth,
    represent: Representation,
    rng: np.random.Generator | int,
    num_train: int = 10_000,
    num_test: int = 5_000,
) -> dict[str, float]:
    """SAP score from single-code linear SVMs fitted on `num_train` draws and tested on `num_test`."""
    rng = np.random.default_rng(rng)
    factors_train, codes_train = _sample_codes(ground_truth, represent, num_train, rng)
    factors_test, codes_test = _sample_codes(ground_truth, represent, num_test, rng)
    return {"sap": sap_from_codes(codes_train, factors_train, codes_test, factors_test)}


def disentanglement_scores(
    ground_truth: GroundTruth,
    represent: Representation,
    rng: np.random.Generator | int,
    num_train: int = 10_000,
    num_test: int = 5_000,
    num_eval: int = 5_000,
    num_variance_estimate: int = 10_000,
    batch_size: int = 64,
) -> dict[str, float]:
    """All four metrics; `num_train` is the draws for MIG, DCI and SAP and the votes for FactorVAE."""
    rng = np.random.default_rng(rng)
    return {
        **compute_mig(ground_truth, represent, rng, num_train),
        **compute_factor_vae(ground_truth, represent, rng, batch_size, num_train, num_eval, num_variance_estimate),
        **compute_dci(ground_truth, represent, rng, num_train, num_test),
        **compute_sap(ground_truth, represent, rng, num_train, num_test),
    }
