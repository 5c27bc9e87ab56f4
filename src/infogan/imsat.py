"""IMSAT's term on real images, an option of training (`--real-cluster-weight`) beyond the paper.

InfoGAN's categories are clusters of G's images; this term makes them clusters of real images too. In
the D step Q reads a real batch x and a randomly warped copy aug(x), and trunk and Q head minimise

    real_cluster_weight * [KL(p(c | x) || p(c | aug(x))) - I(x; c)],
    I(x; c) = H(E_x p(c | x)) - E_x H(p(c | x)),

IMSAT's self-augmented training (Hu et al. 2017) with CatGAN's mutual information (Springenberg 2016):
Q confident on each image, the K categories used equally often, and unmoved by warps that keep the class.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from infogan.augment import random_affine, random_erase, random_gamma
from infogan.config import TrainConfig
from infogan.losses import full_precision
from infogan.networks import InfoGAN


def active(config: TrainConfig) -> bool:
    """Whether the term trains (and a warped copy of each batch is drawn)."""
    return config.real_cluster_weight > 0


def warped_copy(real: torch.Tensor, config: TrainConfig, generator: torch.Generator) -> torch.Tensor:
    """The IMSAT term's random warp of a real batch: geometry, then grey levels, then cutout.

    A warp that is off draws no random numbers, so runs from before it existed replay exactly.
    """
    out = random_affine(real, generator, shear=config.real_cluster_shear, stretch=config.real_cluster_stretch)
    if config.real_cluster_gamma > 1:
        out = random_gamma(out, generator, config.real_cluster_gamma)
    if config.real_cluster_erase:
        out = random_erase(out, generator, config.real_cluster_erase)
    return out


def discriminator_term(model: InfoGAN, real_features: torch.Tensor, augmented: torch.Tensor) -> torch.Tensor:
    """The term on a real batch, from the trunk's features of x (B, F) and the warped copy aug(x) (B, C, H, W)."""
    real_logits, _, _ = full_precision(model.q_head(real_features))
    augmented_logits, _, _ = full_precision(model.q_head(model.trunk(augmented)))
    return real_clustering_loss(real_logits) + consistency_loss(real_logits, augmented_logits)


def real_clustering_loss(logits: list[torch.Tensor]) -> torch.Tensor:
    """-[H(E_x p(c | x)) - E_x H(p(c | x))] summed over the categorical codes, on a batch of real images.

    The negative mutual information between a real image and Q's category (CatGAN, Springenberg 2016;
    IMSAT): minimal, -ln K, when Q is confident on each image and uses the K categories equally often.
    It lets real data pull Q's categories, and through L_I G's, towards the clusters of real images.
    """
    total = logits[0].new_zeros(())
    for code_logits in logits:
        log_p = F.log_softmax(code_logits, dim=1)  # (B, K)
        per_image_entropy = -(log_p.exp() * log_p).sum(1).mean()
        log_marginal = torch.logsumexp(log_p, dim=0) - math.log(len(log_p))  # log E_x p(c | x), (K,)
        marginal_entropy = -(log_marginal.exp() * log_marginal).sum()
        total = total + per_image_entropy - marginal_entropy
    return total


def consistency_loss(logits: list[torch.Tensor], augmented_logits: list[torch.Tensor]) -> torch.Tensor:
    """KL(p(c | x) || p(c | aug(x))) per image, averaged, summed over codes; p(c | x) is held fixed.

    IMSAT's self-augmented training (Hu et al. 2017): a category that changes under a small rotation
    or shift marks style, not content, so Q is taught that augmenting an image keeps its category.
    """
    total = augmented_logits[0].new_zeros(())
    for code_logits, code_augmented in zip(logits, augmented_logits, strict=True):
        target = F.log_softmax(code_logits.detach(), dim=1)
        total = total + F.kl_div(F.log_softmax(code_augmented, dim=1), target, log_target=True, reduction="batchmean")
    return total
