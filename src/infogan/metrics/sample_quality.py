"""Sample-quality maths on feature arrays: Frechet distance, improved precision/recall, classifier score.

Every function here takes features or class probabilities that some network already produced, so the maths
can be checked against closed-form answers without loading one.

The metric `sample_quality` computes them in the domain classifier's feature space, beside the same
figures for real data: real-vs-real compares the test split with as many training images, the floor a
perfect generator would reach with this many samples; the model's figures compare its samples with
the test split.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Iterator

import numpy as np
import torch
from scipy import linalg

from infogan.data import LabelledSplits, labelled_splits
from infogan.errors import InfoGANError
from infogan.metrics.domain_classifier import Classifier, load_classifier
from infogan.metrics.registry import EvalContext, Skipped, register

log = logging.getLogger(__name__)

TRUSTED_ACCURACY = 0.9  # a domain classifier below this on its test part: its features are read with a caveat
TRUSTED_AUC = 0.8  # the same for an attribute classifier (faces), by its mean AUC on the held-out faces


def _check_features(features: np.ndarray, name: str, min_rows: int) -> np.ndarray:
    """Return features as a float64 (n, d) array with n >= min_rows, or raise naming the problem."""
    features = np.asarray(features, dtype=np.float64)
    if features.ndim != 2:
        raise InfoGANError(f"{name} must be a 2-D (samples, dims) array, got shape {features.shape}")
    if len(features) < min_rows:
        raise InfoGANError(f"{name} has {len(features)} samples but this needs at least {min_rows}")
    if not np.isfinite(features).all():
        raise InfoGANError(f"{name} contains NaN or infinite values")
    return features


def gaussian_statistics(features: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Fit a Gaussian to (n, d) features: mean (d,) and unbiased covariance (d, d), as the FID uses."""
    # Two samples is the least an unbiased covariance (divisor n - 1) can be computed from.
    features = _check_features(features, "features", min_rows=2)
    mu = features.mean(axis=0)
    # atleast_2d: np.cov returns a 0-d array when d == 1.
    sigma = np.atleast_2d(np.cov(features, rowvar=False))
    return mu, sigma


def _sqrtm(matrix: np.ndarray) -> np.ndarray:
    """Principal square root; scipy warns on singular input, which frechet_distance handles itself."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", linalg.LinAlgWarning)
        return linalg.sqrtm(matrix)


def frechet_distance(
    mu1: np.ndarray, sigma1: np.ndarray, mu2: np.ndarray, sigma2: np.ndarray, eps: float = 1e-6
) -> float:
    """Frechet distance between N(mu1, sigma1) and N(mu2, sigma2), the FID when fed Inception statistics."""
    mu1, mu2 = np.atleast_1d(mu1).astype(np.float64), np.atleast_1d(mu2).astype(np.float64)
    sigma1, sigma2 = np.atleast_2d(sigma1).astype(np.float64), np.atleast_2d(sigma2).astype(np.float64)
    dims = mu1.shape[0]
    if mu1.ndim != 1 or mu2.shape != (dims,) or sigma1.shape != (dims, dims) or sigma2.shape != (dims, dims):
        raise InfoGANError(
            f"means must be (d,) and covariances (d, d) with one d, got {mu1.shape}, {sigma1.shape}, "
            f"{mu2.shape}, {sigma2.shape}"
        )

    # d^2 = ||mu1 - mu2||^2 + Tr(sigma1 + sigma2 - 2 sqrt(sigma1 sigma2))
    covmean = _sqrtm(sigma1 @ sigma2)
    if not np.isfinite(covmean).all():
        # A singular product can defeat sqrtm (e.g. a nilpotent block gives inf); nudging both covariances
        # to sigma + eps*I makes them invertible and moves the distance by O(sqrt(eps)).
        log.warning("sqrtm(sigma1 @ sigma2) is not finite; adding %g to the covariance diagonals", eps)
        offset = eps * np.eye(dims)
        covmean = _sqrtm((sigma1 + offset) @ (sigma2 + offset))
        if not np.isfinite(covmean).all():
            raise InfoGANError("sqrt(sigma1 sigma2) is not finite even with an eps offset; check the covariances")
    if np.iscomplexobj(covmean):
        # Rounding can leave a tiny imaginary part on a root that is real in exact arithmetic; a large one
        # means the product had clearly negative eigenvalues, i.e. the inputs are not covariances.
        largest = np.abs(np.diagonal(covmean).imag).max()
        if largest > 1e-3:
            raise InfoGANError(
                f"sqrt(sigma1 sigma2) has an imaginary component of {largest:.3g}; "
                "pass positive semi-definite covariances"
            )
        covmean = covmean.real

    diff = mu1 - mu2
    return float(diff @ diff + np.trace(sigma1) + np.trace(sigma2) - 2.0 * np.trace(covmean))


def _row_batches(queries: torch.Tensor, points: torch.Tensor, batch_size: int) -> Iterator[tuple[slice, torch.Tensor]]:
    """Yield (row slice, distances from those query rows to every point), batch_size query rows at a time.

    Holding one (batch_size, len(points)) block at a time keeps 10,000 x 10,000 within ~100 MB.
    """
    for start in range(0, len(queries), batch_size):
        rows = slice(start, start + batch_size)
        yield rows, torch.cdist(queries[rows], points)


def _knn_radii(points: torch.Tensor, k: int, batch_size: int) -> torch.Tensor:
    """Distance from each point to its k-th nearest neighbour other than itself."""
    radii = torch.empty(len(points), dtype=points.dtype)
    for rows, dists in _row_batches(points, points, batch_size):
        # The smallest distance in each row is the point to itself (0), so the k-th neighbour is index k.
        radii[rows] = torch.topk(dists, k + 1, dim=1, largest=False).values[:, k]
    return radii


def _coverage(queries: torch.Tensor, centres: torch.Tensor, radii: torch.Tensor, batch_size: int) -> float:
    """Fraction of queries inside at least one closed ball ||q - c_j|| <= r_j."""
    inside = torch.zeros(len(queries), dtype=torch.bool)
    for rows, dists in _row_batches(queries, centres, batch_size):
        inside[rows] = (dists <= radii[None, :]).any(dim=1)
    return inside.double().mean().item()


def precision_recall(
    real_features: np.ndarray, fake_features: np.ndarray, k: int = 3, batch_size: int = 1000
) -> dict[str, float]:
    """Improved precision and recall (Kynkaanniemi et al. 2019) of fake features against real ones.

    Each set's manifold is the union of balls around its points reaching each point's k-th nearest neighbour.
    precision = share of fake samples on the real manifold (are samples realistic?);
    recall = share of real samples on the fake manifold (is the data covered?).
    """
    if k < 1:
        raise InfoGANError(f"k must be at least 1, got {k}")
    # The k-th neighbour other than itself needs k + 1 points in the set.
    real = _check_features(real_features, "real_features", min_rows=k + 1)
    fake = _check_features(fake_features, "fake_features", min_rows=k + 1)
    if real.shape[1] != fake.shape[1]:
        raise InfoGANError(f"real features have {real.shape[1]} dims but fake features have {fake.shape[1]}")
    if batch_size < 1:
        raise InfoGANError(f"batch_size must be at least 1, got {batch_size}")

    # float64 so that points near a ball's edge are not flipped by rounding in cdist's matmul path.
    real_t, fake_t = torch.from_numpy(real), torch.from_numpy(fake)
    real_radii = _knn_radii(real_t, k, batch_size)
    fake_radii = _knn_radii(fake_t, k, batch_size)
    return {
        "precision": _coverage(fake_t, real_t, real_radii, batch_size),
        "recall": _coverage(real_t, fake_t, fake_radii, batch_size),
    }


def classifier_score(probabilities: np.ndarray) -> float:
    """Inception-score formula for a domain classifier: exp(E_x KL(p(y|x) || p(y))), p(y) = mean row.

    High when each sample is classified confidently (peaked p(y|x)) and the classes are used evenly (flat
    p(y)); it ranges from 1 (every row the same) to the number of classes.
    """
    probs = np.asarray(probabilities, dtype=np.float64)
    if probs.ndim != 2 or probs.shape[0] < 1 or probs.shape[1] < 1:
        raise InfoGANError(f"probabilities must be a non-empty (samples, classes) array, got {probs.shape}")
    if not np.isfinite(probs).all() or (probs < 0).any():
        raise InfoGANError("probabilities must be finite and non-negative")
    if not np.allclose(probs.sum(axis=1), 1.0, atol=1e-3):
        raise InfoGANError("each row of probabilities must sum to 1; apply softmax to the logits")

    marginal = probs.mean(axis=0, keepdims=True)
    # KL(p || q) = sum_y p_y (log p_y - log q_y). Zero probabilities would give 0 * log 0 = 0 * -inf = nan, so
    # both logs see values clamped to 1e-12: a term with p_y = 0 is then 0 * finite = 0, its true limit, and
    # q_y = 0 only happens where every p_y in that column is 0.
    tiny = 1e-12
    kl = (probs * (np.log(np.maximum(probs, tiny)) - np.log(np.maximum(marginal, tiny)))).sum(axis=1)
    return float(np.exp(kl.mean()))


def quality(classifier: Classifier, reference: torch.Tensor, images: torch.Tensor) -> dict[str, float]:
    """Frechet distance, precision, recall (k = 3) of `images` against `reference`, and their classifier score
    when the classifier has classes: an attribute classifier's 40 independent probabilities are no
    distribution over classes for the score's formula to read."""
    reference_features, _ = classifier.predict(reference)
    features, probabilities = classifier.predict(images)
    reference_features, features = reference_features.double().numpy(), features.double().numpy()
    out = {"fd": frechet_distance(*gaussian_statistics(features), *gaussian_statistics(reference_features))}
    out.update(precision_recall(reference_features, features, k=3))
    if classifier.attributes is None:
        out["classifier_score"] = classifier_score(probabilities.double().numpy())
    return out


def real_samples(splits: LabelledSplits, count: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Up to `count` test images, the reference samples are compared with, and as many training images, the
    real-vs-real floor's samples: both uint8, drawn with `seed`."""
    count = min(count, len(splits.test), len(splits.train))
    pick = torch.Generator().manual_seed(seed)
    test = splits.test.images[torch.randperm(len(splits.test), generator=pick)[:count]]
    train = splits.train.images[torch.randperm(len(splits.train), generator=pick)[:count]]
    return test, train


def weak_features(classifier: Classifier, model: dict[str, float], real: dict[str, float]) -> str | None:
    """Why these figures cannot be read, or None: a domain classifier below TRUSTED_ACCURACY on its test
    part (an attribute classifier below TRUSTED_AUC), or samples that score better than real images (an FD
    under the real-vs-real floor, a precision above that of real images), which a feature space that cannot
    tell images apart gives any samples."""
    reasons = []
    if classifier.test_score < (TRUSTED_ACCURACY if classifier.attributes is None else TRUSTED_AUC):
        reasons.append(f"the domain classifier reaches only {classifier.test_score:.2f} {classifier.score_name}")
    if model["fd"] < real["fd"]:
        reasons.append(f"the FD of the samples ({model['fd']:.3g}) is below the real-vs-real floor ({real['fd']:.3g})")
    if model["precision"] > real["precision"]:
        reasons.append(
            f"their precision ({model['precision']:.2f}) is above that of real images ({real['precision']:.2f})"
        )
    if not reasons:
        return None
    figures = "FD, precision and recall" + (" and the classifier score" if classifier.attributes is None else "")
    return (
        f"{'; '.join(reasons)}: its feature space barely tells these images apart, so {figures} say little about "
        "the samples here; judge them by the pictures"
    )


@register(
    "sample_quality",
    "Frechet distance, precision/recall (k=3), classifier score in a domain classifier's space (faces: the "
    "attribute classifier's, without a classifier score)",
)
def sample_quality(ctx: EvalContext) -> dict[str, float]:
    config = ctx.run.config
    try:
        classifier = load_classifier(config, ctx.data_dir, ctx.classifier_cache)
        splits = labelled_splits(config, ctx.data_dir, need_labels=classifier.attributes is None)
    except InfoGANError as error:
        raise Skipped(str(error)) from None
    test, train = real_samples(splits, ctx.samples, ctx.seed)
    count = len(test)
    ctx.notes["sample_quality"] = (
        f"{count} samples against {count} test images ({splits.note}); real-vs-real: {count} training images"
    )
    model = quality(classifier, test, ctx.generated[:count])
    real = quality(classifier, test, train)
    caveat = weak_features(classifier, model, real)
    if caveat is not None:
        ctx.caveats["sample_quality"] = caveat
    return {
        "classifier_test_acc" if classifier.attributes is None else "classifier_test_auc": classifier.test_score,
        **model,
        **{f"real_{key}": value for key, value in real.items()},
    }
