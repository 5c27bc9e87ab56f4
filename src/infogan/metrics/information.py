"""The mutual-information lower bound L_I of each code, measured on fresh generated samples: the maths
(`information_bounds`) and the metric `information`."""

from __future__ import annotations

import torch

from infogan.generate import q_outputs
from infogan.latent import Latent
from infogan.losses import categorical_nll, code_entropies, gaussian_nll
from infogan.metrics.registry import EvalContext, register


def information_bounds(q_outputs: tuple, latent: Latent, entropies: list[float]) -> list[float]:
    """L_I = H(c) - E[-log Q(c | x)] per code, categorical codes first; <= I(c; x) <= H(c) for a discrete code."""
    logits, means, log_stds = q_outputs
    nll = torch.cat([categorical_nll(logits, latent), gaussian_nll(means, log_stds, latent)])  # (n_codes,)
    return [entropy - float(value) for entropy, value in zip(entropies, nll, strict=True)]


@register("information", "L_I = H(c) - E[-log Q(c|x)] per code on fresh samples, beside its maximum H(c)")
def information(ctx: EvalContext) -> dict[str, float]:
    spec = ctx.run.model.spec
    entropies = code_entropies(spec)
    bounds = information_bounds(q_outputs(ctx.run.model, ctx.generated), ctx.latent, entropies)
    ctx.notes["information"] = f"{ctx.samples} generated samples (seed {ctx.seed})"
    out: dict[str, float] = {}
    for name, bound, entropy in zip(spec.code_names(), bounds, entropies, strict=True):
        out[f"mi_{name}"] = bound
        out[f"h_{name}"] = entropy
    return out
