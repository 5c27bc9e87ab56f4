"""The metric `attributes`: what each code does to faces, named by CelebA's 40 attributes.

A perfect information bound proves nothing on faces: G can hide every code in changes the eye barely
sees, and Q still reads it. So the codes are read from two sides, each beside its chance level:

- generated faces (code_effects.py's mechanism, with the attribute classifier as the source of
  measurements): each latent is rendered at every value of a code with the rest fixed, and the effect on
  an attribute is how far apart the code's values put its mean predicted probability (a categorical
  code: largest minus smallest mean over the values; a continuous code: the mean at 1 minus at -1);
- real held-out faces: how well Q's reading of the code predicts the attribute, as the AUC of the value
  that predicts it best (its probability as the score, either direction), and the NMI between Q's
  partition (argmax) and the attribute; chance: the same with the attribute shuffled over the faces.

A code is tied to an attribute when its effect is at least TIED (0.25 in probability) and above chance;
`codes_tied` counts the different attributes tied to some code (the issue's aim: four or more), and
`traits_tied` the different traits among them: CelebA's attributes overlap (Wearing_Lipstick, Heavy_Makeup
and Male; Smiling and High_Cheekbones), so attributes correlated on the real faces count as one trait.
"""

from __future__ import annotations

import json

import numpy as np
import torch
from scipy.sparse.csgraph import connected_components

from infogan.data import load_dataset
from infogan.errors import InfoGANError
from infogan.files import atomic_write
from infogan.generate import generate, q_outputs
from infogan.latent import Latent, category_sweep_latent, code_sweep_latent
from infogan.metrics.code_effects import (
    LATENTS,
    STEPS,
    CategoryEffect,
    Measure,
    category_effects,
    code_effects,
    labelled_rows,
)
from infogan.metrics.domain_classifier import Classifier, load_classifier, rank_auc
from infogan.metrics.registry import DoesNotApply, EvalContext, Skipped, register
from infogan.networks import InfoGAN

TIED = 0.25  # effect in predicted probability from which a code is tied to an attribute
SHOWN = 3  # attributes named per code in the report and the picture
TRAIT_CORRELATION = 0.4  # |r| on the real faces from which two attributes are one trait (joined transitively)
PERMUTATIONS = 200  # shuffles of the attribute over the real faces, for the chance level of AUC and NMI


def best_value_auc(ranks: np.ndarray, targets: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For the ranks (N, K) of K scores (Q's probability of each value, or a continuous code's mean with K = 1)
    and (N, A) 0/1 attributes: the AUC of the value that predicts each attribute best, in either direction
    (0.5 to 1), and that value, each (A,)."""
    strength = np.abs(rank_auc(ranks, targets) - 0.5)  # (K, A)
    return 0.5 + strength.max(0), strength.argmax(0)


def partition_nmi(partition: np.ndarray, targets: np.ndarray) -> np.ndarray:
    """Normalised mutual information (arithmetic mean of the entropies) between a partition (N,) and each
    0/1 attribute column of (N, A): 0 when independent, 1 when one determines the other.

    sklearn's normalized_mutual_info_score, for all columns at once: called per column and per shuffle it
    spent minutes of each evaluation validating its input. Its edge cases too: 1 when neither side is
    split (one value, one class), 0 when only one side is.
    """
    _, partition = np.unique(partition, return_inverse=True)
    clusters = np.eye(partition.max() + 1)[partition]  # (N, K) one-hot
    positive = targets.T.astype(np.float64) @ clusters  # (A, K) faces of each cluster with the attribute
    joint = np.stack([clusters.sum(0) - positive, positive], 1) / len(partition)  # (A, 2, K) p(attribute, cluster)
    p_attribute, p_cluster = joint.sum(2, keepdims=True), joint.sum(1, keepdims=True)  # (A, 2, 1), (A, 1, K)
    ratio = np.divide(joint, p_attribute * p_cluster, out=np.ones_like(joint), where=joint > 0)
    information = np.clip((joint * np.log(ratio)).sum((1, 2)), 0, None)  # (A,) mutual information in nats

    def entropy(p: np.ndarray) -> np.ndarray:
        return -(p * np.log(np.where(p > 0, p, 1))).sum((1, 2))

    mean_entropy = (entropy(p_attribute) + entropy(p_cluster)) / 2  # arithmetic mean, sklearn's default
    nmi = np.divide(information, mean_entropy, out=np.zeros_like(information), where=information > 1e-12)
    return np.where(mean_entropy == 0, 1.0, nmi)


def real_reading(scores: np.ndarray, targets: np.ndarray, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Q's reading of one code on real faces against each attribute, with chance levels (95th percentile
    over PERMUTATIONS shuffles of the faces' attributes): auc, value, auc_chance, and for a categorical
    code nmi and nmi_chance (over a quarter as many shuffles: NMI is slower); each (A,)."""
    from scipy.stats import rankdata

    ranks = rankdata(scores, axis=0)
    areas, value = best_value_auc(ranks, targets)
    partition = scores.argmax(1) if scores.shape[1] > 1 else None
    shuffled_auc, shuffled_nmi = [], []
    for shuffle in range(PERMUTATIONS):
        permuted = targets[rng.permutation(len(targets))]
        shuffled_auc.append(best_value_auc(ranks, permuted)[0])
        if partition is not None and shuffle % 4 == 0:
            shuffled_nmi.append(partition_nmi(partition, permuted))
    out = {"auc": areas, "value": value, "auc_chance": np.quantile(shuffled_auc, 0.95, axis=0)}
    if partition is not None:
        out.update(nmi=partition_nmi(partition, targets), nmi_chance=np.quantile(shuffled_nmi, 0.95, axis=0))
    return out


def traits(targets: np.ndarray) -> np.ndarray:
    """A trait label per attribute of (N, A) 0/1 `targets`: attributes whose |correlation| over the faces
    reaches TRAIT_CORRELATION share a label, transitively; a constant attribute correlates with none."""
    with np.errstate(invalid="ignore", divide="ignore"):
        correlation = np.nan_to_num(np.corrcoef(targets.T.astype(float)), nan=0.0)
    return connected_components(np.abs(correlation) >= TRAIT_CORRELATION, directed=False)[1]


def q_scores(model: InfoGAN, images: torch.Tensor) -> dict[str, np.ndarray]:
    """Q's reading of real images per code: {catI: (N, K) probabilities, contJ: (N, 1) means}."""
    logits, means, _ = q_outputs(model, images)
    scores = {f"cat{i}": part.softmax(1).numpy() for i, part in enumerate(logits)}
    scores.update({f"cont{j}": means[:, j : j + 1].numpy() for j in range(means.shape[1])})
    return scores


def measure_attributes(classifier: Classifier) -> Measure:
    """The attribute classifier as code_effects' source of measurements: images -> {attribute: (N,) probability}."""

    def measure(images: torch.Tensor) -> dict[str, np.ndarray]:
        _, probabilities = classifier.predict(images)
        return {name: probabilities[:, i].numpy() for i, name in enumerate(classifier.attributes)}

    return measure


def code_table(effects: list, reading: dict[str, dict[str, np.ndarray]], names: list[str]) -> dict[str, dict]:
    """{code: {attribute: figures}} for attributes.json: the effect on generated faces (and the values or
    rho behind it) beside Q's reading of real faces."""
    table = {}
    for effect in effects:
        real = reading[effect.code]
        rows = {}
        for i, name in enumerate(names):
            if isinstance(effect, CategoryEffect):
                row = {"effect": effect.spread[name], "low_value": effect.low[name], "high_value": effect.high[name]}
            else:
                row = {"effect": effect.change[name], "rho": effect.rho[name]}
            row.update({key: float(values[i]) for key, values in real.items() if key != "value"})
            row["real_value"] = int(real["value"][i])
            rows[name] = row
        chance = effect.chance if isinstance(effect, CategoryEffect) else effect.change_chance  # the effect's units
        table[effect.code] = {"effect_chance": chance, "attributes": rows}
    return table


def strongest(table: dict, code: str, count: int = SHOWN) -> list[str]:
    """The `count` attributes a code moves most on generated faces (largest |effect|)."""
    rows = table[code]["attributes"]
    return sorted(rows, key=lambda name: abs(rows[name]["effect"]), reverse=True)[:count]


def tied(table: dict, code: str) -> str | None:
    """The attribute the code is tied to (|effect| >= TIED and above chance), or None."""
    name = strongest(table, code, 1)[0]
    effect = abs(table[code]["attributes"][name]["effect"])
    return name if effect >= TIED and effect > table[code]["effect_chance"] else None


def describe(table: dict, code: str) -> str:
    """'cat3: Eyeglasses 0.41 (AUC 0.71 vs 0.53), Male 0.20 (...), ...; chance 0.03'."""
    parts = []
    for name in strongest(table, code):
        row = table[code]["attributes"][name]
        parts.append(f"{name} {row['effect']:+.2f} (real AUC {row['auc']:.2f} vs chance {row['auc_chance']:.2f})")
    return f"{code}: {', '.join(parts)}; effect chance {table[code]['effect_chance']:.2f}"


def picture(render, spec, table: dict, path: str, seed: int, rows: int = 2) -> None:
    """Each code's values (categorical) or traversal from -1 to 1 (continuous) for `rows` latents, labelled
    with the attributes it moves most."""
    blocks = []
    for code, size in enumerate(spec.categorical):
        latent = category_sweep_latent(spec, code, rows, torch.Generator().manual_seed(seed))
        blocks.append((label(table, f"cat{code}"), render(latent), size))
    for code in range(spec.continuous):
        latent = code_sweep_latent(spec, code, rows, STEPS, torch.Generator().manual_seed(seed))
        blocks.append((label(table, f"cont{code}"), render(latent), STEPS))
    title = f"each code's values left to right; its strongest attributes (* = tied: effect >= {TIED}, above chance)"
    labelled_rows(blocks, title, path, left=0.3)


def label(table: dict, code: str) -> str:
    lines = [code] + [
        f"{name} {table[code]['attributes'][name]['effect']:+.2f}" + ("*" if name == tied(table, code) else "")
        for name in strongest(table, code, 2)
    ]
    return "\n".join(lines)


@register("attributes", "what each code does to faces: CelebA attributes on generated faces and Q on real ones")
def attributes(ctx: EvalContext) -> dict[str, float]:
    model, config = ctx.run.model, ctx.run.config
    if config.dataset != "celeba":
        raise DoesNotApply("reads faces with a CelebA attribute classifier: a model trained on --dataset celeba")
    try:
        classifier = load_classifier(config, ctx.data_dir, ctx.classifier_cache)
        real = load_dataset(config, "test", ctx.data_dir)
    except InfoGANError as error:
        raise Skipped(str(error)) from None
    if classifier.attributes is None or real.attributes is None:
        raise Skipped("needs CelebA's list_attr_celeba.txt beside the images, and a classifier trained on it")

    def render(latent: Latent) -> torch.Tensor:
        return generate(model, latent)

    measure = measure_attributes(classifier)
    effects = [
        *category_effects(model.spec, render, measure, seed=ctx.seed),
        *code_effects(model.spec, render, measure, seed=ctx.seed),
    ]
    targets = real.attributes.numpy()
    rng = np.random.default_rng(ctx.seed)
    reading = {code: real_reading(scores, targets, rng) for code, scores in q_scores(model, real.images).items()}
    table = code_table(effects, reading, classifier.attributes)

    json_path = ctx.output_folder / "attributes.json"
    with atomic_write(json_path, "w") as handle:
        readable = dict(zip(classifier.attributes, classifier.attribute_auc or [], strict=False))
        json.dump({"tied_at": TIED, "classifier_auc": readable, "codes": table}, handle, indent=1)
    png_path = ctx.output_folder / "attributes.png"
    picture(render, model.spec, table, str(png_path), ctx.seed)
    ctx.files += [json_path, png_path]
    ties = {code: tied(table, code) for code in table}
    ctx.notes["attributes"] = (
        "; ".join(describe(table, code) for code in table)
        + f". Generated: {LATENTS} latents per code at each of its values; real: Q on the {len(real)} faces of "
        f"{real.name}; attribute classifier: {classifier.test_score:.3f} {classifier.score_name}"
    )
    values = {"attribute_classifier_auc": classifier.test_score}
    names = {name for name in ties.values() if name}
    trait = traits(targets)
    values["codes_tied"] = float(len(names))
    values["traits_tied"] = float(len({trait[classifier.attributes.index(name)] for name in names}))
    for code in table:
        top = strongest(table, code, 1)[0]
        row = table[code]["attributes"][top]
        values.update({f"{code}_effect": abs(row["effect"]), f"{code}_effect_chance": table[code]["effect_chance"]})
        values.update({f"{code}_real_auc": row["auc"], f"{code}_real_auc_chance": row["auc_chance"]})
    return values
