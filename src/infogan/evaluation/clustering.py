"""Clustering by each categorical code: argmax of Q's logits on real labelled images against the labels."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from matplotlib.figure import Figure  # pyplot-free: renders with Agg, no display or global state

from infogan.data import to_unit_range
from infogan.evaluation.registry import EvalContext, Skipped, register
from infogan.files import atomic_write
from infogan.generate import encode
from infogan.metrics.clustering import best_mapping, clustering_scores, confusion_matrix
from infogan.visualize import save_grid

MEMBERS_SHOWN = 12  # real images shown per category in members-catI.png


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
        order = matched_order(labels, predictions, code_logits.shape[1])
        path = ctx.output_folder / f"confusion-{name}.png"
        plot_confusion(labels, predictions, order, path, f"{name}: ACC {out[f'{name}_acc']:.3f}")
        members = ctx.output_folder / f"members-{name}.png"
        save_grid(category_members(data.images, predictions, order, ctx.seed), MEMBERS_SHOWN, members)
        ctx.files += [path, members]
    return out


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


def plot_confusion(labels: np.ndarray, predictions: np.ndarray, order: list[int], path: Path, title: str) -> None:
    """Confusion matrix with the categories (rows) in `order`; columns are the labels."""
    classes, clusters = int(labels.max()) + 1, len(order)
    counts = confusion_matrix(labels, predictions, clusters, classes)  # (clusters, classes)
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
    with atomic_write(path) as handle:
        figure.savefig(handle, format="png", dpi=100)
