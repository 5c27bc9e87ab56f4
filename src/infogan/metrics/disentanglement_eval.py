"""The metric `disentanglement` (`infogan evaluate RUN --metrics disentanglement`): the scores of a dSprites model.

The representation is Q's continuous-code means on real dSprites images (generate.encode); the ground
truth is the procedural dSprites grid. Besides MIG, FactorVAE, DCI and SAP (metrics.disentanglement,
disentanglement_lib's defaults), InfoGAN-CR's shape-classifier scores of generated images.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace

import numpy as np
import torch

from infogan.cache import cache_dir
from infogan.data.dsprites import FACTOR_SIZES, IMAGE_SIZE, NUM_IMAGES, DSprites, classes_to_index, sample_factors
from infogan.errors import InfoGANError
from infogan.generate import encode, generate
from infogan.latent import sample_latent
from infogan.metrics.disentanglement import disentanglement_scores
from infogan.metrics.dsprites_shape import ShapeClassifier, shape_probabilities, shape_scores, train_shape_classifier
from infogan.metrics.registry import DoesNotApply, EvalContext, register
from infogan.run_folder import Run


@dataclass(frozen=True)
class Budget:
    """Sample sizes; the defaults are disentanglement_lib's and InfoGAN-CR's (50,000 generated images)."""

    num_train: int = 10_000  # MIG, DCI and SAP draws; FactorVAE training votes
    num_test: int = 5_000  # DCI and SAP test draws
    num_eval: int = 5_000  # FactorVAE evaluation votes
    num_variance_estimate: int = 10_000  # FactorVAE global variance
    num_generated: int = 50_000  # images the shape classifier reads
    classifier_steps: int = 1_000  # shape classifier's training batches of 64

    @property
    def lookups(self) -> int:
        """Images the disentanglement scores encode: FactorVAE's votes of 64 dominate (~1M at full size)."""
        votes = self.num_train + self.num_eval
        return self.num_variance_estimate + 64 * votes + 3 * self.num_train + 2 * self.num_test

    def scaled(self, factor: float) -> Budget:
        """Every sample size times `factor` (at least 100), for quick looks on slow machines; the classifier's
        training stays whole, since a weak classifier would misread every image."""
        sizes = {
            f.name: max(100, int(getattr(self, f.name) * factor)) for f in fields(self) if f.name != "classifier_steps"
        }
        return replace(self, **sizes)


def check_dsprites_model(run: Run) -> None:
    """The scores read a 64x64 grey model with at least two continuous codes."""
    config = run.config
    if (config.image_size, config.channels) != (IMAGE_SIZE, 1) or config.continuous < 2:
        raise InfoGANError(
            f"{run.directory} was trained on {config.image_size}x{config.image_size}x{config.channels} images with "
            f"{config.continuous} continuous code(s): disentanglement needs a dSprites model (--preset dsprites)"
        )


def code_representation(run: Run):
    """Observations (n, 64, 64) in {0, 1} -> Q's continuous-code means (n, n_cont)."""

    def represent(sprites: np.ndarray) -> np.ndarray:
        images = torch.from_numpy(sprites * np.uint8(255))[:, None]  # (n, 1, 64, 64) uint8
        return encode(run.model, images)[1].numpy()

    return represent


class EncodedGrid:
    """The dSprites grid as a ground truth whose observations are the sprites' indices, with Q's codes of
    every sprite computed once: at full sample sizes the scores read ~1M images, so one pass over the
    737,280 is 1.4x cheaper, and each score is then a table lookup. The draws are DSprites' own (the same
    factors from the same rng), so the scores are those of the image path."""

    factor_sizes = FACTOR_SIZES

    def __init__(self, codes: np.ndarray):
        self.codes = codes  # (737280, n_cont)

    @classmethod
    def encode(cls, run: Run, sprites: DSprites, chunk: int = 8192) -> EncodedGrid:
        """Q's continuous-code means of every sprite, read `chunk` sprites at a time."""
        represent = code_representation(run)
        chunks = np.array_split(np.arange(NUM_IMAGES), range(chunk, NUM_IMAGES, chunk))
        return cls(np.concatenate([represent(sprites.images(indices)) for indices in chunks]))

    def sample(self, n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        classes = sample_factors(n, rng)
        return classes, self.observe(classes, rng)

    def observe(self, classes: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        return classes_to_index(classes)

    def represent(self, indices: np.ndarray) -> np.ndarray:
        return self.codes[indices]


def evaluate_disentanglement(
    run: Run,
    seed: int = 0,
    budget: Budget | None = None,
    sprites: DSprites | None = None,
    classifier: ShapeClassifier | None = None,
    shape: bool = True,
) -> dict[str, float]:
    """All scores of `run` as {name: float}. `sprites` (with its cache loaded, for speed) and a trained
    `classifier` may be shared across runs; they are made here when not given (from the dSprites cache
    in $INFOGAN_CACHE or ~/.cache/infogan when one was rendered, else rendering on demand).
    `shape=False` leaves out the shape-classifier scores of generated images."""
    check_dsprites_model(run)
    budget = budget or Budget()
    if sprites is None:
        sprites = DSprites()
        if (cache_dir() / "dsprites.npz").is_file():
            sprites.load_cache()  # lookups instead of rendering FactorVAE's ~1M images (~30 s)
    ground_truth, represent = sprites, code_representation(run)
    if budget.lookups > NUM_IMAGES:
        grid = EncodedGrid.encode(run, sprites)
        ground_truth, represent = grid, grid.represent
    scores = disentanglement_scores(
        ground_truth,
        represent,
        np.random.default_rng(seed),
        budget.num_train,
        budget.num_test,
        budget.num_eval,
        budget.num_variance_estimate,
    )
    if not shape:
        return scores
    if classifier is None:
        classifier, accuracy = train_shape_classifier(sprites, budget.classifier_steps, seed=seed, device=run.device)
        scores["shape_classifier_real_accuracy"] = accuracy
    latent = sample_latent(run.model.spec, budget.num_generated, torch.Generator().manual_seed(seed))
    scores.update(shape_scores(shape_probabilities(classifier, generate(run.model, latent))))
    return scores


@register(
    "disentanglement",
    "dSprites models: MIG, FactorVAE, DCI, SAP, shape-classifier scores at --scale x their sample sizes "
    "(minutes at --scale 1)",
)
def disentanglement(ctx: EvalContext) -> dict[str, float]:
    try:
        check_dsprites_model(ctx.run)
    except InfoGANError as error:
        raise DoesNotApply(str(error)) from None
    budget = Budget().scaled(ctx.scale)
    if ctx.classifier_steps is not None:
        budget = replace(budget, classifier_steps=ctx.classifier_steps)
    scores = evaluate_disentanglement(ctx.run, ctx.seed, budget)
    ctx.notes["disentanglement"] = f"procedural dSprites, sample sizes {budget}"
    return scores
