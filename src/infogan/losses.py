"""Loss terms of InfoGAN, each with its formula.

min_{G,Q} max_D  V(D, G) - lambda * L_I(G, Q), where L_I is the variational lower bound of I(c; G(z, c)):
    L_I = E_{c ~ P(c), x ~ G(z, c)} [log Q(c | x)] + H(c)  <=  I(c; G(z, c)).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from infogan.latent import Latent, LatentSpec

LOG_STD_MIN, LOG_STD_MAX = math.log(0.05), math.log(2.0)  # clamp for learned standard deviations
HALF_LOG_2PI = 0.5 * math.log(2 * math.pi)


def discriminator_loss(real_logits: torch.Tensor, fake_logits: torch.Tensor) -> torch.Tensor:
    """-log D(x) - log(1 - D(G(z, c))), with D = sigmoid(logit): softplus(-l_real) + softplus(l_fake)."""
    return F.softplus(-real_logits).mean() + F.softplus(fake_logits).mean()


def generator_loss(fake_logits: torch.Tensor) -> torch.Tensor:
    """Non-saturating generator loss -log D(G(z, c)) = softplus(-l_fake)."""
    return F.softplus(-fake_logits).mean()


def categorical_nll(logits: list[torch.Tensor], latent: Latent) -> torch.Tensor:
    """Per code -E[log Q(c_i | x)]: cross-entropy on raw logits (softmax is inside). Returns (n_cat,)."""
    if not logits:
        return latent.noise.new_zeros(0)
    return torch.stack([F.cross_entropy(code_logits, latent.categorical[:, i]) for i, code_logits in enumerate(logits)])


def gaussian_nll(means: torch.Tensor, log_stds: torch.Tensor | None, latent: Latent) -> torch.Tensor:
    """Per code -E[log N(c_j; mu_j, sigma_j^2)] = log sigma + (c - mu)^2 / (2 sigma^2) + log(2 pi) / 2.

    sigma is 1 unless Q learns it, in which case log sigma is clamped so the bound cannot diverge.
    Returns (n_cont,).
    """
    target = latent.continuous
    if log_stds is None:
        nll = 0.5 * (target - means) ** 2 + HALF_LOG_2PI
    else:
        log_stds = log_stds.clamp(LOG_STD_MIN, LOG_STD_MAX)
        nll = log_stds + 0.5 * ((target - means) * torch.exp(-log_stds)) ** 2 + HALF_LOG_2PI
    return nll.mean(dim=0)


def code_entropies(spec: LatentSpec) -> list[float]:
    """H(c) of each code: ln K for a uniform K-way code, ln 2 for U(-1, 1) (differential entropy)."""
    return [math.log(size) for size in spec.categorical] + [math.log(2.0)] * spec.continuous


def information_loss(
    q_outputs: tuple, latent: Latent, cat_weight: float, cont_weight: float
) -> tuple[torch.Tensor, torch.Tensor]:
    """lambda-weighted -L_I up to the constant H(c): cat_weight * sum CE + cont_weight * sum Gaussian NLL.

    Returns (the weighted scalar loss, the (n_codes,) unweighted negative log-likelihoods for logging;
    L_I of code i is H(c_i) - nll_i).
    """
    logits, means, log_stds = q_outputs
    cat = categorical_nll(logits, latent)
    cont = gaussian_nll(means, log_stds, latent)
    loss = cat_weight * cat.sum() + cont_weight * cont.sum()
    return loss, torch.cat([cat, cont]).detach()


def full_precision(q_outputs: tuple) -> tuple:
    """Q's outputs in float32, so losses are computed at full precision under autocast."""
    logits, means, log_stds = q_outputs
    return [x.float() for x in logits], means.float(), None if log_stds is None else log_stds.float()
