"""Latent codes: noise z, categorical codes c_cat and continuous codes c_cont.

The generator input is the concatenation [z, one_hot(c_cat_0), ..., one_hot(c_cat_k), c_cont].
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from infogan.config import SEED_LIMIT
from infogan.errors import InfoGANError

CODE_LIMIT = 2.0  # continuous codes set by hand may reach twice the training range [-1, 1], to see G extrapolate
MIN_ROWS = 8  # rows a picture gives each categorical code: a 2-way code gets 4 bands of 2, not one pair per column


@dataclass(frozen=True)
class LatentSpec:
    """Sizes of the latent parts; any number of categorical codes and continuous codes."""

    noise: int = 62
    categorical: tuple[int, ...] = (10,)
    continuous: int = 2
    noise_scale: float = 1.0  # z ~ U(-s, s): a small s leaves the codes more of G's variation (ClusterGAN)

    @property
    def input_dim(self) -> int:
        """Length of the generator's input vector."""
        return self.noise + sum(self.categorical) + self.continuous

    def code_names(self) -> list[str]:
        """Names used in logs and files: cat0.., cont0.."""
        return [f"cat{i}" for i in range(len(self.categorical))] + [f"cont{j}" for j in range(self.continuous)]


@dataclass
class Latent:
    """A batch of latents kept in parts, so the information loss can read the codes back."""

    noise: torch.Tensor  # (B, noise) in [-s, s]
    categorical: torch.Tensor  # (B, n_cat) int64 category indices
    continuous: torch.Tensor  # (B, n_cont) in [-1, 1]

    def generator_input(self, spec: LatentSpec) -> torch.Tensor:
        """(B, spec.input_dim) float vector for G: noise, one-hot codes, continuous codes."""
        one_hots = [
            F.one_hot(self.categorical[:, i], size).to(self.noise.dtype) for i, size in enumerate(spec.categorical)
        ]
        return torch.cat([self.noise, *one_hots, self.continuous], dim=1)

    def __len__(self) -> int:
        return self.noise.shape[0]

    def to(self, device: torch.device | str) -> Latent:
        return Latent(self.noise.to(device), self.categorical.to(device), self.continuous.to(device))


def sample_latent(
    spec: LatentSpec, batch_size: int, generator: torch.Generator | None = None, device: str | torch.device = "cpu"
) -> Latent:
    """z ~ U(-s, s) with s = spec.noise_scale, categorical codes uniform, continuous codes ~ U(-1, 1).

    Drawn on the generator's device (CPU by default) so that runs are reproducible across devices,
    then moved to `device`.
    """
    noise = (torch.rand(batch_size, spec.noise, generator=generator) * 2 - 1) * spec.noise_scale
    categorical = (
        torch.stack([torch.randint(size, (batch_size,), generator=generator) for size in spec.categorical], dim=1)
        if spec.categorical
        else torch.zeros(batch_size, 0, dtype=torch.long)
    )
    continuous = torch.rand(batch_size, spec.continuous, generator=generator) * 2 - 1
    return Latent(noise, categorical, continuous).to(device)


def bands(spec: LatentSpec, codes: Sequence[int]) -> list[int]:
    """The categorical code of each band of a picture's rows: code c gets enough bands of its K_c values
    (one row each, fresh latents per band) to fill MIN_ROWS rows."""
    return [c for c in codes for _ in range(-(-MIN_ROWS // spec.categorical[c]))]


def band_labels(spec: LatentSpec, codes: Sequence[int]) -> list[str] | None:
    """ "catI = V" for each row of the bands of `codes`; None without categorical codes (rows of samples)."""
    if not spec.categorical:
        return None
    return [f"cat{c} = {value}" for c in bands(spec, codes) for value in range(spec.categorical[c])]


def category_rows_latent(spec: LatentSpec, columns: int, generator: torch.Generator) -> Latent:
    """Sample-grid latents: for each categorical code in turn, bands of rows where row v fixes the code
    to v and the columns vary the rest (see bands; band_labels names the rows).

    Within a band each column shares one noise vector and one setting of the other codes across rows,
    so a row shows what the category changes and a column what it keeps. Without categorical codes the
    grid is 10 rows of independent samples.
    """
    if not spec.categorical:  # the other codes shared down each column, as in a band
        latent = _repeat_rows(sample_latent(spec, columns, generator), 10)
        latent.noise = sample_latent(spec, 10 * columns, generator).noise
        return latent
    parts = []
    for code in bands(spec, range(len(spec.categorical))):
        rows = spec.categorical[code]
        band = _repeat_rows(sample_latent(spec, columns, generator), rows)  # (rows * columns) latents, row-major
        band.categorical[:, code] = torch.arange(rows).repeat_interleave(columns)
        parts.append(band)
    return _concatenate(parts)


def traversal_latent(spec: LatentSpec, code: int, steps: int, generator: torch.Generator) -> Latent:
    """Traversal of continuous code `code` from -1 to 1 along each row.

    Rows are the values of the first categorical code, in bands (see bands; band_labels(spec, [0])
    names them), or 10 noise vectors without one; within a band the noise and every other code stay
    fixed, with the other continuous codes at 0.
    """
    if not 0 <= code < spec.continuous:
        raise ValueError(f"continuous code {code} does not exist (the model has {spec.continuous})")
    if not spec.categorical:
        latent = _repeat_rows(sample_latent(spec, 1, generator), 10 * steps)
        latent.noise = sample_latent(spec, 10, generator).noise.repeat_interleave(steps, dim=0)
    else:
        parts = []
        for _ in bands(spec, [0]):
            rows = spec.categorical[0]
            band = _repeat_rows(sample_latent(spec, 1, generator), rows * steps)
            band.categorical[:, 0] = torch.arange(rows).repeat_interleave(steps)
            parts.append(band)
        latent = _concatenate(parts)
    latent.continuous.zero_()
    latent.continuous[:, code] = torch.linspace(-1, 1, steps).repeat(len(latent) // steps)
    return latent


def code_sweep_latent(spec: LatentSpec, code: int, latents: int, steps: int, generator: torch.Generator) -> Latent:
    """`latents` draws from the prior, each repeated over `steps` values of continuous code `code` from -1 to 1
    with everything else fixed: (latents * steps) latents, one traversal after another. Unlike
    traversal_latent's picture rows, every other code keeps its random value, as in training."""
    if not 0 <= code < spec.continuous:
        raise ValueError(f"continuous code {code} does not exist (the model has {spec.continuous})")
    base = sample_latent(spec, latents, generator)
    latent = Latent(*(part.repeat_interleave(steps, dim=0) for part in (base.noise, base.categorical, base.continuous)))
    latent.continuous[:, code] = torch.linspace(-1, 1, steps).repeat(latents)
    return latent


def category_sweep_latent(spec: LatentSpec, code: int, latents: int, generator: torch.Generator) -> Latent:
    """`latents` draws from the prior, each repeated over every value of categorical code `code` with
    everything else fixed: (latents * K) latents, one latent's values after another (code_sweep_latent's
    categorical twin)."""
    if not 0 <= code < len(spec.categorical):
        raise ValueError(f"categorical code {code} does not exist (the model has {len(spec.categorical)})")
    size = spec.categorical[code]
    base = sample_latent(spec, latents, generator)
    latent = Latent(*(part.repeat_interleave(size, dim=0) for part in (base.noise, base.categorical, base.continuous)))
    latent.categorical[:, code] = torch.arange(size).repeat(latents)
    return latent


def code_latent(
    spec: LatentSpec, seed: int, categorical: Sequence[int], continuous: Sequence[float], vary: int | None = None
) -> Latent:
    """One latent with every code set by hand and the noise drawn from `seed`.

    With `vary`, one latent per value of categorical code `vary` (the value given for it is then
    ignored), sharing the noise and the other codes, to show what that code changes. Values are
    checked here because they come from people: `infogan sample --cat/--cont` and `infogan explore`.
    """
    names = spec.code_names()
    cat_names, cont_names = names[: len(spec.categorical)], names[len(spec.categorical) :]
    if not 0 <= seed < SEED_LIMIT:
        raise InfoGANError(f"seed {seed} lies outside [0, {SEED_LIMIT})")
    for kind, wanted, given in (("categorical", cat_names, categorical), ("continuous", cont_names, continuous)):
        if len(given) != len(wanted):
            listed = f" ({', '.join(wanted)})" if wanted else ""
            raise InfoGANError(f"{len(wanted)} {kind} code value(s) expected{listed}, got {len(given)}")
    for name, value, size in zip(cat_names, categorical, spec.categorical, strict=True):
        if not 0 <= value < size:
            raise InfoGANError(f"categorical code {name} = {value} lies outside 0..{size - 1}")
    for name, value in zip(cont_names, continuous, strict=True):
        if not (math.isfinite(value) and -CODE_LIMIT <= value <= CODE_LIMIT):
            limits = f"[-{CODE_LIMIT:g}, {CODE_LIMIT:g}]"
            raise InfoGANError(f"continuous code {name} = {value} lies outside {limits} (training: [-1, 1])")
    if vary is not None and not 0 <= vary < len(spec.categorical):
        raise InfoGANError(f"categorical code to vary {vary} does not exist: the model has {len(spec.categorical)}")
    noise = sample_latent(spec, 1, torch.Generator().manual_seed(seed)).noise  # (1, noise)
    single = Latent(
        noise, torch.tensor([list(categorical)], dtype=torch.long), torch.tensor([list(continuous)], dtype=noise.dtype)
    )
    if vary is None:
        return single
    latent = _repeat_rows(single, spec.categorical[vary])  # (K, ...): one row per value of the code
    latent.categorical[:, vary] = torch.arange(spec.categorical[vary])
    return latent


def seeded_codes(spec: LatentSpec, seed: int) -> tuple[list[int], list[float]]:
    """The categorical and continuous codes drawn with the noise of `seed` (code_latent's draw): what
    `infogan sample` takes for the codes not set by hand."""
    latent = sample_latent(spec, 1, torch.Generator().manual_seed(seed))
    return latent.categorical[0].tolist(), latent.continuous[0].tolist()


def _concatenate(parts: list[Latent]) -> Latent:
    return Latent(*(torch.cat([getattr(p, name) for p in parts]) for name in ("noise", "categorical", "continuous")))


def _repeat_rows(latent: Latent, times: int) -> Latent:
    """Tile a batch `times` times: (B, ...) -> (times * B, ...)."""
    return Latent(
        latent.noise.repeat(times, 1), latent.categorical.repeat(times, 1), latent.continuous.repeat(times, 1)
    )
