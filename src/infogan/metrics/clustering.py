"""How well a categorical code clusters the data: accuracy under the best cluster-to-label match, NMI, ARI.

A categorical code is learned without labels, so code value 3 has no reason to mean digit 3. Accuracy is
therefore taken under the one-to-one matching of clusters to classes that agrees with the labels most
often (the Hungarian algorithm on the contingency matrix); NMI and ARI need no matching at all.

The metric `clustering` scores each categorical code: argmax of Q's logits on real labelled images
against the labels, with a confusion matrix and each category's members as pictures.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from matplotlib.figure import Figure  # pyplot-free: renders with Agg, no display or global state
from scipy.optimize import linear_sum_assignment
from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score

from infogan.config import TrainConfig
from infogan.data import ImageData, load_dataset, to_unit_range
from infogan.errors import InfoGANError
from infogan.files import atomic_write
from infogan.generate import encode
from infogan.metrics.registry import EvalContext, Skipped, register
from infogan.visualize import save_grid

MEMBERS_SHOWN = 12  # real images shown per category in members-catI.png
SCORED_IMAGES = 10_000  # the clustering score reads at most this many labelled images (all of MNIST's test split)
SCORED_SEED = 99


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


def majority_rate(labels: np.ndarray) -> float:
    """The share of the most common label: the ACC of putting every image in one category, so an ACC
    means something only well above it (chance is 1/K only when the K classes are equally common)."""
    _, counts = np.unique(_check_assignments(labels, labels)[0], return_counts=True)
    return float(counts.max() / counts.sum())


def clustering_scores(labels: np.ndarray, predictions: np.ndarray) -> dict[str, float]:
    """Return {"acc", "majority", "nmi", "ari"}: matched accuracy beside the majority-class rate it must beat,
    normalised mutual information, adjusted Rand index."""
    labels, predictions = _check_assignments(labels, predictions)
    return {
        "acc": cluster_accuracy(labels, predictions),
        "majority": majority_rate(labels),
        "nmi": float(normalized_mutual_info_score(labels, predictions)),
        "ari": float(adjusted_rand_score(labels, predictions)),
    }


def scored_images(data: ImageData) -> ImageData:
    """The images the clustering score is taken on, the same during training and in `infogan evaluate`:
    all of `data`, or a fixed random SCORED_IMAGES of it when it holds more (ACC to about +-0.5%)."""
    if len(data) <= SCORED_IMAGES:
        return data
    pick = torch.randperm(len(data), generator=torch.Generator().manual_seed(SCORED_SEED))[:SCORED_IMAGES]
    return ImageData(
        data.images[pick], data.labels[pick], f"a fixed {SCORED_IMAGES} of the {len(data)} images of {data.name}"
    )


def clustering_data(config: TrainConfig, split: str = "test", data_dir: str | None = None) -> ImageData:
    """The labelled images a run's codes are scored on (see scored_images); Skipped without labels."""
    data = load_dataset(config, split, data_dir)
    if data.labels is None and data.attribute_names is not None:  # CelebA's faces: attributes, not classes
        raise Skipped(
            f"{data.name} holds faces, which have no classes to cluster: `infogan evaluate --metrics attributes` "
            f"measures what the codes learned, against its {len(data.attribute_names)} attributes"
        )
    if data.labels is None:
        raise Skipped(f"{data.name} has no labels: pass --data with a labelled source (IDX files, class folders)")
    return scored_images(data)


@register("clustering", "ACC (Hungarian matching), NMI and ARI of each categorical code on labelled real images")
def clustering(ctx: EvalContext) -> dict[str, float]:
    spec = ctx.run.model.spec
    if not spec.categorical:
        raise Skipped("the model has no categorical code to cluster with")
    data = clustering_data(ctx.run.config, ctx.split, ctx.data_dir)
    ctx.notes["clustering"] = f"{len(data)} images of {data.name}"
    logits, _ = encode(ctx.run.model, data.images)
    labels = data.labels.numpy()
    classes = data.classes or [str(label) for label in range(int(labels.max()) + 1)]
    out: dict[str, float] = {}
    for name, code_logits in zip(spec.code_names(), logits, strict=False):  # categorical codes come first
        predictions = code_logits.argmax(1).numpy()
        for key, value in clustering_scores(labels, predictions).items():
            out[f"{name}_{key}"] = value
        order = matched_order(labels, predictions, code_logits.shape[1])
        path = ctx.output_folder / f"confusion-{name}.png"
        title = f"{name}: ACC {out[f'{name}_acc']:.3f} (majority class {out[f'{name}_majority']:.3f})"
        plot_confusion(labels, predictions, order, path, title, classes)
        members = ctx.output_folder / f"members-{name}.png"
        rows = member_rows(name, order, best_mapping(labels, predictions), classes)
        save_grid(category_members(data.images, predictions, order, ctx.seed), MEMBERS_SHOWN, members, rows)
        ctx.files += [path, members]
    return out


def member_rows(name: str, order: list[int], mapping: dict[int, int], classes: list[str]) -> list[str]:
    """The label of each row of members-catI.png, in `order`: "cat0 = 3 -> male" (the class the
    category is matched to), or "cat0 = 4, unmatched"."""
    return [
        f"{name} = {category} -> {classes[mapping[category]]}"
        if category in mapping
        else f"{name} = {category}, unmatched"
        for category in order
    ]


def matched_order(labels: np.ndarray, predictions: np.ndarray, clusters: int) -> list[int]:
    """The categories ordered by the label each is matched to, unmatched ones last: a good code reads diagonal."""
    classes = int(labels.max()) + 1
    mapping = best_mapping(labels, predictions)
    return sorted(range(clusters), key=lambda c: (mapping.get(c, classes), c))


def category_members(images: torch.Tensor, predictions: np.ndarray, order: list[int], seed: int) -> torch.Tensor:
    """MEMBERS_SHOWN random real images per category, one row each in `order`, blank where fewer exist.

    What a category means on real data, beside the confusion matrix's counts: a row that mixes two
    classes shows what they share (the slant of a 4 and a 9, the height of a boot and a sandal).
    """
    generator = torch.Generator().manual_seed(seed)
    predictions = torch.from_numpy(predictions)
    blank = -torch.ones((MEMBERS_SHOWN, *images.shape[1:]))
    rows = []
    for category in order:
        members = torch.nonzero(predictions == category).flatten()
        chosen = members[torch.randperm(len(members), generator=generator)[:MEMBERS_SHOWN]]
        row = blank.clone()
        row[: len(chosen)] = to_unit_range(images[chosen]).float()
        rows.append(row)
    return torch.cat(rows)


def plot_confusion(
    labels: np.ndarray, predictions: np.ndarray, order: list[int], path: Path, title: str, names: list[str]
) -> None:
    """Confusion matrix with the categories (rows) in `order`; columns are the labels, named `names`."""
    classes, clusters = len(names), len(order)
    counts = confusion_matrix(labels, predictions, clusters, classes)  # (clusters, classes)
    figure = Figure(figsize=(1 + 0.45 * classes, 1 + 0.45 * clusters))
    axes = figure.subplots()
    axes.imshow(counts[order], cmap="Blues")
    for row, cluster in enumerate(order):
        for column in range(classes):
            value = counts[cluster, column]
            colour = "white" if value > counts.max() / 2 else "black"
            axes.text(column, row, str(value), ha="center", va="center", fontsize=7, color=colour)
    axes.set_xticks(range(classes), names, rotation=90 if max(map(len, names)) > 3 else 0)
    axes.set_yticks(range(clusters), [str(c) for c in order])
    axes.set_xlabel("label")
    axes.set_ylabel("category of the code")
    axes.set_title(title)
    figure.tight_layout()
    with atomic_write(path) as handle:
        figure.savefig(handle, format="png", dpi=100)
