"""Sample quality in the domain classifier's feature space, beside the same figures for real data.

Real-vs-real compares the test split with as many training images: the floor a perfect generator
would reach with this many samples. The model's figures compare its samples with the test split.
"""

from __future__ import annotations

import torch

from infogan.classifier import Classifier, labelled_splits, load_classifier
from infogan.errors import InfoGANError
from infogan.evaluation.registry import EvalContext, Skipped, register
from infogan.metrics.sample_quality import classifier_score, frechet_distance, gaussian_statistics, precision_recall


def quality(classifier: Classifier, reference: torch.Tensor, images: torch.Tensor) -> dict[str, float]:
    """Frechet distance, precision, recall (k = 3) of `images` against `reference`, and their classifier score."""
    reference_features, _ = classifier.predict(reference)
    features, probabilities = classifier.predict(images)
    reference_features, features = reference_features.double().numpy(), features.double().numpy()
    out = {"fd": frechet_distance(*gaussian_statistics(features), *gaussian_statistics(reference_features))}
    out.update(precision_recall(reference_features, features, k=3))
    out["classifier_score"] = classifier_score(probabilities.double().numpy())
    return out


@register("sample_quality", "Frechet distance, precision/recall (k=3), classifier score in a domain classifier's space")
def sample_quality(ctx: EvalContext) -> dict[str, float]:
    config = ctx.run.config
    try:
        classifier = load_classifier(config, ctx.data_dir, ctx.classifier_cache)
        splits = labelled_splits(config, ctx.data_dir)
    except InfoGANError as error:
        raise Skipped(str(error)) from None
    count = min(ctx.samples, len(splits.test), len(splits.train))
    pick = torch.Generator().manual_seed(ctx.seed)
    test = splits.test.images[torch.randperm(len(splits.test), generator=pick)[:count]]
    train = splits.train.images[torch.randperm(len(splits.train), generator=pick)[:count]]
    ctx.notes["sample_quality"] = (
        f"{count} samples against {count} test images ({splits.note}); real-vs-real: {count} training images"
    )
    model = quality(classifier, test, ctx.generated[:count])
    real = quality(classifier, test, train)
    return {
        "classifier_test_acc": classifier.test_accuracy,
        **model,
        **{f"real_{key}": value for key, value in real.items()},
    }
