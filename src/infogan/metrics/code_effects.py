"""The metric `codes`: what each continuous code does to the images, named by measurement.

Users ask "which code is rotation?" and "my continuous codes do nothing"; the answer was judged by eye.
Here each code moves from -1 to 1 while everything else in the latent stays fixed, for many latents
drawn from the prior, and a source of measurements reads every generated image: for grey images the
pixel properties of image_properties.py (slant, width, height, thickness, ink). Other sources (an
attribute classifier reading faces) plug in as another `measure` function: the mechanism is this one.

For each code and property:
- rho: the Spearman correlation between the code's value and the property along one traversal,
  averaged over the latents (so a code that always thickens strokes scores 1, whatever the digit);
- change: the mean difference of the property between the code at 1 and at -1, in its own units;
- chance: the 95th percentile of |rho| when each traversal's order is shuffled (a code wired to
  nothing), the largest over the properties.
A code is named by its strongest property (largest |rho|); the name is "clear" when |rho| >= 0.5 and
above chance, the bar of docs/results/mnist-codes.md.

A categorical code's values have no order: each latent is rendered at every value instead, and the
effect on a property is its spread, the largest minus the smallest mean over the values (with the
values that give them); its chance level shuffles each latent's values. The metric `attributes`
(attributes.py) reads faces this way, with an attribute classifier as the source of measurements.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch

from infogan.generate import generate
from infogan.latent import Latent, LatentSpec, category_sweep_latent, code_sweep_latent
from infogan.metrics import image_properties
from infogan.metrics.registry import DoesNotApply, EvalContext, Skipped, register

LATENTS = 200  # traversals per code: the mean rho's standard error is about 0.3 / sqrt(200) = 0.02
STEPS = 9  # values from -1 to 1 on each traversal
SHUFFLES = 200  # shuffled orders for the chance level
CLEAR = 0.5  # |rho| at which a code's strongest property names it


@dataclass(frozen=True)
class CodeEffect:
    """One continuous code's effect on each measured property."""

    code: str  # cont0, cont1, ...
    rho: dict[str, float]  # property -> mean Spearman correlation along the traversals
    change: dict[str, float]  # property -> mean property at code 1 minus at code -1
    chance: float  # 95th percentile of |rho| with the traversals shuffled, largest over the properties
    # the same for |change|, in the properties' units: comparable where they share one (probabilities)
    change_chance: float

    @property
    def name(self) -> str:
        """The property the code moves most consistently."""
        return max(self.rho, key=lambda p: abs(self.rho[p]))

    @property
    def clear(self) -> bool:
        strongest = abs(self.rho[self.name])
        return strongest >= CLEAR and strongest > self.chance

    def describe(self) -> str:
        """'cont1: slant (rho +0.93, +24.1 over [-1, 1]; chance 0.04)', or '... weak' when not clear."""
        name = self.name
        text = f"{self.code}: {name} (rho {self.rho[name]:+.2f}, {self.change[name]:+.3g} over [-1, 1]"
        return text + f"; chance {self.chance:.2f})" + ("" if self.clear else ", weak")


def spearman_along_rows(values: np.ndarray) -> np.ndarray:
    """Spearman correlation of each row of (N, T) values with its position 0..T-1; 0 for a constant row.

    Ties get their average rank, as in scipy.stats.spearmanr.
    """
    from scipy.stats import rankdata

    ranks = rankdata(values, axis=1)
    positions = np.arange(values.shape[1], dtype=np.float64)
    ranks_centred = ranks - ranks.mean(1, keepdims=True)
    positions_centred = positions - positions.mean()
    scale = np.sqrt((ranks_centred**2).sum(1) * (positions_centred**2).sum())
    covariance = (ranks_centred * positions_centred).sum(1)
    return np.divide(covariance, scale, out=np.zeros(len(values)), where=scale > 0)


def code_effect(code: str, measured: dict[str, np.ndarray], rng: np.random.Generator) -> CodeEffect:
    """The effect of one code from its traversals' measurements {property: (latents, steps)}, the code
    rising from -1 to 1 along axis 1."""
    rho, change, chance, change_chance = {}, {}, 0.0, 0.0
    for name, values in measured.items():
        rho[name] = float(spearman_along_rows(values).mean())
        change[name] = float((values[:, -1] - values[:, 0]).mean())
        shuffled = [rng.permuted(values, axis=1) for _ in range(SHUFFLES)]  # each row in its own random order
        chance = max(chance, float(np.quantile([abs(spearman_along_rows(s).mean()) for s in shuffled], 0.95)))
        changes = [abs((s[:, -1] - s[:, 0]).mean()) for s in shuffled]
        change_chance = max(change_chance, float(np.quantile(changes, 0.95)))
    return CodeEffect(code, rho, change, chance, change_chance)


@dataclass(frozen=True)
class CategoryEffect:
    """One categorical code's effect on each measured property."""

    code: str  # cat0, cat1, ...
    spread: dict[str, float]  # property -> largest minus smallest mean over the code's values
    high: dict[str, int]  # property -> the value with the largest mean
    low: dict[str, int]  # property -> the value with the smallest mean
    chance: float  # 95th percentile of the spread with each latent's values shuffled, largest over the properties

    @property
    def name(self) -> str:
        """The property the code's values set furthest apart."""
        return max(self.spread, key=self.spread.__getitem__)

    @property
    def clear(self) -> bool:
        return self.spread[self.name] > self.chance

    def strongest(self, count: int) -> list[str]:
        """The `count` properties with the largest spreads, largest first."""
        return sorted(self.spread, key=self.spread.__getitem__, reverse=True)[:count]

    def describe(self, name: str | None = None) -> str:
        """'cat3: Eyeglasses (0.41 from value 2 to 7; chance 0.03)', or '... weak' when not above chance."""
        name = name or self.name
        text = f"{self.code}: {name} ({self.spread[name]:.3g} from value {self.low[name]} to {self.high[name]}"
        return text + f"; chance {self.chance:.2g})" + ("" if self.spread[name] > self.chance else ", weak")


def category_effect(code: str, measured: dict[str, np.ndarray], rng: np.random.Generator) -> CategoryEffect:
    """The effect of one categorical code from its measurements {property: (latents, values)}, column k
    holding the code at value k."""
    spread, high, low, chance = {}, {}, {}, 0.0
    for name, values in measured.items():
        means = values.mean(0)
        spread[name], high[name], low[name] = float(np.ptp(means)), int(means.argmax()), int(means.argmin())
        shuffled = [np.ptp(rng.permuted(values, axis=1).mean(0)) for _ in range(SHUFFLES)]
        chance = max(chance, float(np.quantile(shuffled, 0.95)))
    return CategoryEffect(code, spread, high, low, chance)


Measure = Callable[[torch.Tensor], dict[str, np.ndarray]]  # images (N, C, H, W) -> {property: (N,)}
Render = Callable[[Latent], torch.Tensor]  # latents -> images (N, C, H, W) in [-1, 1]


def code_effects(
    spec: LatentSpec,
    render: Render,
    measure: Measure,
    seed: int = 0,
    latents: int = LATENTS,
    steps: int = STEPS,
) -> list[CodeEffect]:
    """Every continuous code's effect: `latents` traversals of `steps` values each, rendered and measured."""
    effects = []
    for code in range(spec.continuous):
        latent = code_sweep_latent(spec, code, latents, steps, torch.Generator().manual_seed(seed))
        measured = {name: values.reshape(latents, steps) for name, values in measure(render(latent)).items()}
        effects.append(code_effect(f"cont{code}", measured, np.random.default_rng(seed)))
    return effects


def category_effects(
    spec: LatentSpec, render: Render, measure: Measure, seed: int = 0, latents: int = LATENTS
) -> list[CategoryEffect]:
    """Every categorical code's effect: `latents` latents, each rendered at every value of the code and measured."""
    effects = []
    for code, size in enumerate(spec.categorical):
        latent = category_sweep_latent(spec, code, latents, torch.Generator().manual_seed(seed))
        measured = {name: values.reshape(latents, size) for name, values in measure(render(latent)).items()}
        effects.append(category_effect(f"cat{code}", measured, np.random.default_rng(seed)))
    return effects


def distinct_clear_names(effects: list[CodeEffect]) -> int:
    """How many different properties name a code clearly: four codes that all mean slant count one."""
    return len({effect.name for effect in effects if effect.clear})


def labelled_traversals(
    render: Render, spec: LatentSpec, effects: list[CodeEffect], path: str, seed: int = 0, rows: int = 3
) -> None:
    """A PNG: for each code `rows` traversals from -1 (left) to 1 (right), labelled with its measured name."""
    blocks = []
    for code, effect in enumerate(effects):
        images = render(code_sweep_latent(spec, code, rows, STEPS, torch.Generator().manual_seed(seed)))
        name = effect.name if effect.clear else f"{effect.name}?"
        blocks.append((f"{effect.code}: {name}\nrho {effect.rho[effect.name]:+.2f}", images, STEPS))
    title = "each continuous code from -1 (left) to 1 (right); ? = weak (|rho| < 0.5)"
    labelled_rows(blocks, title, path)


def labelled_rows(blocks: list[tuple[str, torch.Tensor, int]], title: str, path: str, left: float = 0.18) -> None:
    """A PNG of image blocks one under another, each (label, images (N, C, H, W) in [-1, 1], columns),
    its label to the left."""
    from matplotlib.figure import Figure  # pyplot-free: renders with Agg

    from infogan.files import atomic_write
    from infogan.visualize import image_grid

    rows = [-(-len(images) // columns) for _, images, columns in blocks]
    figure = Figure(figsize=(7.5, 0.8 * sum(rows) + 0.6))
    axes = figure.subplots(len(blocks), 1, squeeze=False, gridspec_kw={"height_ratios": rows})[:, 0]
    for axis, (label, images, columns) in zip(axes, blocks, strict=True):
        axis.imshow(image_grid(images, columns), cmap="gray")
        axis.set_xticks([])
        axis.set_yticks([])
        axis.set_ylabel(label, rotation=0, ha="right", va="center")
    figure.suptitle(title, fontsize=9)
    figure.tight_layout()
    figure.subplots_adjust(left=left)  # room for the labels, which tight_layout clips
    with atomic_write(path) as handle:
        figure.savefig(handle, format="png", dpi=80)


@register("codes", "what each continuous code does: Spearman rho with slant, width, height, thickness, ink")
def codes(ctx: EvalContext) -> dict[str, float]:
    model, config = ctx.run.model, ctx.run.config
    if config.dataset == "celeba":
        raise DoesNotApply("measures strokes in grey images: the metric attributes names the codes of faces")
    if model.spec.continuous == 0:
        raise Skipped("the model has no continuous code")
    if config.channels != 1:
        raise Skipped("measures grey images (slant, width, thickness of strokes); this model makes RGB images")

    def render(latent: Latent) -> torch.Tensor:
        return generate(model, latent)

    effects = code_effects(model.spec, render, image_properties.measure, seed=ctx.seed)
    path = ctx.output_folder / "codes.png"
    labelled_traversals(render, model.spec, effects, str(path), seed=ctx.seed)
    ctx.files.append(path)
    described = "; ".join(effect.describe() for effect in effects)
    ctx.notes["codes"] = f"{described} ({LATENTS} generated traversals of {STEPS} steps per code, seed {ctx.seed})"
    values = {"codes_named": float(distinct_clear_names(effects))}
    for effect in effects:
        values.update({f"{effect.code}_rho_{name}": rho for name, rho in effect.rho.items()})
        values.update({f"{effect.code}_change_{name}": change for name, change in effect.change.items()})
        values[f"{effect.code}_rho_chance"] = effect.chance
    return values
