"""Clustering by each categorical code: argmax of Q's logits on real labelled images against the labels."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from matplotlib.figure import Figure  # pyplot-free: renders with Agg, no display or global state

from infogan.evaluation.registry import EvalContext, Skipped, register
from infogan.generate import encode
from infogan.metrics.clustering import best_mapping, clustering_scores, confusion_matrix


@register("clustering", "ACC (Hungarian matching), NMI and ARI of each categorical code on labelled real images")
def clustering(ctx: EvalContext) -> dict[str, float]:
    spec = ctx.run.model.spec
    if not spec.categorical:
        raise Skipped("the model has no categorical code to cluster with")
    data = ctx.real
    if data.labels is None:
        raise Skipped(f"{data.name} has no labels: pass --data with a labelled source (IDX files, class folders)")
    ctx.notes["clustering"] = f"{len(data)} images of {data.name}"
    logits, _ = encode(ctx.run.model, data.images)
    labels = data.labels.numpy()
    out: dict[str, float] = {}
    for name, code_logits in zip(spec.code_names(), logits, strict=False):  # categorical codes come first
        predictions = code_logits.argmax(1).numpy()
        for key, value in clustering_scores(labels, predictions).items():
            out[f"{name}_{key}"] = value
        path = ctx.output_folder / f"confusion-{name}.png"
        plot_confusion(labels, predictions, code_logits.shape[1], path, f"{name}: ACC {out[f'{name}_acc']:.3f}")
        ctx.files.append(path)
    return out


def plot_confusion(labels: np.ndarray, predictions: np.ndarray, clusters: int, path: Path, title: str) -> None:
    """Confusion matrix with clusters ordered by the label each is matched to, so a good code is diagonal."""
    classes = int(labels.max()) + 1
    counts = confusion_matrix(labels, predictions, clusters, classes)  # (clusters, classes)
    mapping = best_mapping(labels, predictions)
    order = sorted(range(clusters), key=lambda c: (mapping.get(c, classes), c))  # unmatched clusters last
    figure = Figure(figsize=(1 + 0.45 * classes, 1 + 0.45 * clusters))
    axes = figure.subplots()
    axes.imshow(counts[order], cmap="Blues")
    for row, cluster in enumerate(order):
        for column in range(classes):
            value = counts[cluster, column]
            colour = "white" if value > counts.max() / 2 else "black"
            axes.text(column, row, str(value), ha="center", va="center", fontsize=7, color=colour)
    axes.set_xticks(range(classes))
    axes.set_yticks(range(clusters), [str(c) for c in order])
    axes.set_xlabel("label")
    axes.set_ylabel("category of the code")
    axes.set_title(title)
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=100)
