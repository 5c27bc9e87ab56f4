"""InfoGAN-CR's contrastive regulariser (Lin et al., ICML 2020), an option of training (`--cr-weight`).

Two images are generated from latents that agree on one continuous code c_I, I ~ U{0..k-1}, and share
the noise z, while every other code is drawn afresh; a classifier H(x, x') must name I. G and H both
minimise the same cross-entropy, cooperatively:

    L_CR(G, H) = E_{I, (x, x') ~ pair(I)} [-log H_I(x, x')],
    G minimises V_G + lambda * (-L_I) + alpha * L_CR;  H minimises L_CR.

G can only make I easy to read from a pair if changing any one code changes the image in a way of its
own, which is what disentanglement asks. Progressive training: for the first `cr_gap_steps` steps of
the regulariser the other codes of a pair differ by at least `cr_gap` (an easier task), then by any
amount; and, as in the authors' dSprites setup, the regulariser can start late (`cr_start`).
"""

from __future__ import annotations

import contextlib
import typing

import torch
import torch.nn.functional as F
from torch import nn

from infogan.latent import Latent

if typing.TYPE_CHECKING:
    from infogan.config import TrainConfig

LEAK = 0.1


class ContrastiveHead(nn.Module):
    """H(x, x'): the pair stacked on channels -> (conv 4x4/2 lReLU)* down to <= 7 px -> FC 128 lReLU -> k logits.

    The authors' widths (32, 32, 64, 64) with no batch norm, so a pair's prediction depends on that pair alone.
    """

    def __init__(self, image_size: int, channels: int, codes: int):
        super().__init__()
        layers: list[nn.Module] = []
        size, c_in = image_size, 2 * channels
        for c_out in (32, 32, 64, 64):
            if size <= 7:
                break
            layers += [nn.Conv2d(c_in, c_out, 4, 2, 1), nn.LeakyReLU(LEAK, True)]
            size, c_in = size // 2, c_out
        self.conv = nn.Sequential(*layers)
        self.fc = nn.Sequential(nn.Linear(c_in * size * size, 128), nn.LeakyReLU(LEAK, True), nn.Linear(128, codes))

    def forward(self, first: torch.Tensor, second: torch.Tensor) -> torch.Tensor:
        x = self.conv(torch.cat([first, second], dim=1))  # (B, 2C, H, W) -> (B, C_last, s, s)
        return self.fc(x.flatten(1))  # (B, k) logits of the shared code's index


def active(step: int, cr_weight: float, cr_start: int) -> bool:
    """Whether the regulariser trains at this step (0-based)."""
    return cr_weight > 0 and step >= cr_start


def gap_at(step: int, cr_start: int, cr_gap: float, cr_gap_steps: int) -> float:
    """Minimum |c_j - c'_j| of a pair's other codes: cr_gap for cr_gap_steps steps after cr_start, then 0."""
    return cr_gap if step < cr_start + cr_gap_steps else 0.0


def partner_codes(continuous: torch.Tensor, shared: torch.Tensor, gap: float) -> torch.Tensor:
    """Codes c' (B, k) for a pair with c (B, k): c'_I = c_I for I = shared (B,), other codes drawn from
    U(-1, 1) restricted to |c'_j - c_j| >= gap (uniform over the allowed length, never empty for gap < 1).

    Random numbers come from torch's global CPU generator, whose state checkpoints keep."""
    # Allowed set: [-1, c - gap] of length a = max(c - gap + 1, 0), then [c + gap, 1] of length b.
    below = (continuous - gap + 1).clamp(min=0)  # (B, k)
    above = (1 - continuous - gap).clamp(min=0)
    u = torch.rand(continuous.shape).to(continuous.device) * (below + above)
    partner = torch.where(u < below, u - 1, continuous + gap + (u - below))
    rows = torch.arange(len(shared), device=continuous.device)
    partner[rows, shared] = continuous[rows, shared]
    return partner


def contrastive_loss(model: nn.Module, latent: Latent, fake: torch.Tensor, gap: float) -> torch.Tensor:
    """L_CR on pairs (G(z, c), G(z, c')): `fake` (B, C, H, W) is G(z, c) of `latent`, c' shares code I with c.

    Saves one G pass per step over drawing both images afresh; the index I comes from torch's global CPU
    generator, like the partner codes.
    """
    codes = latent.continuous.shape[1]
    shared = torch.randint(codes, (len(latent),)).to(fake.device)  # (B,) the index H must name
    partner = Latent(latent.noise, latent.categorical, partner_codes(latent.continuous, shared, gap))
    second = model.generator(partner.generator_input(model.spec))  # (B, C, H, W)
    logits = model.cr_head(fake, second).float()  # (B, k)
    return F.cross_entropy(logits, shared)  # -E log H_I(x, x')


def generator_term(
    model: nn.Module,
    latent: Latent,
    fake: torch.Tensor,
    step: int,
    config: TrainConfig,
    autocast: contextlib.AbstractContextManager,
    train_head: bool = True,
) -> torch.Tensor | None:
    """L_CR of this G update, with (`train_head`: once per step) the gradient of H's own update already in
    H's weights (H: min L_CR); None while the regulariser is off. G's share, alpha * L_CR, joins G's loss."""
    if not active(step, config.cr_weight, config.cr_start):
        return None
    gap = gap_at(step, config.cr_start, config.cr_gap, config.cr_gap_steps)
    with autocast:
        loss_cr = contrastive_loss(model, latent, fake, gap)
    if train_head:
        loss_cr.backward(inputs=list(model.cr_head.parameters()), retain_graph=True)
    return loss_cr
