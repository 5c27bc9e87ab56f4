"""The mutual-information lower bound L_I of each code, measured on fresh generated samples."""

from __future__ import annotations

import torch

from infogan.evaluation.registry import EvalContext, register
from infogan.latent import Latent
from infogan.losses import categorical_nll, code_entropies, gaussian_nll
from infogan.networks import InfoGAN


def information_bounds(q_outputs: tuple, latent: Latent, entropies: list[float]) -> list[float]:
    """L_I = H(c) - E[-log Q(c | x)] per code, categorical codes first; <= I(c; x) <= H(c) for a discrete code."""
    logits, means, log_stds = q_outputs
    nll = torch.cat([categorical_nll(logits, latent), gaussian_nll(means, log_stds, latent)])  # (n_codes,)
    return [entropy - float(value) for entropy, value in zip(entropies, nll, strict=True)]


@torch.no_grad()
def q_outputs(model: InfoGAN, images: torch.Tensor, batch_size: int = 500) -> tuple:
    """Q(c | x) of float images in [-1, 1], in eval mode, concatenated over chunks; on the CPU."""
    was_training = model.training
    model.eval()
    device = next(model.parameters()).device
    parts = [model.q_head(model.trunk(chunk.to(device))) for chunk in images.split(batch_size)]
    model.train(was_training)
    logits = [torch.cat([p[0][i] for p in parts]).float().cpu() for i in range(len(model.spec.categorical))]
    means = torch.cat([p[1] for p in parts]).float().cpu()
    log_stds = None if parts[0][2] is None else torch.cat([p[2] for p in parts]).float().cpu()
    return logits, means, log_stds


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
