"""What Q reads of G's images with --q-shift / --q-noise, an option of training beyond the paper.

InfoGAN's bound only asks that Q read c back from G(z, c). On CelebA G met it with changes the eye
barely sees (docs/results/celeba.md): Q read every code almost perfectly while the faces hardly moved.
With this option Q reads a copy of each fake image shifted by a few pixels and covered in Gaussian
noise, in both the D step and the G step, so a code survives only as a change larger than the shift
and the noise. D's real/fake head still reads the images themselves; the trunk runs once more per step.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from infogan.augment import shift_by, shift_offsets
from infogan.config import TrainConfig


def active(config: TrainConfig) -> bool:
    """Whether Q reads a shifted or noisy copy (and each step draws one)."""
    return config.q_shift > 0 or config.q_noise > 0


@dataclass
class QView:
    """One step's draw: per-image offsets (2, B) for `shift_by` and noise (B, C, H, W), applied alike in
    the D step and in every G step of that batch."""

    offsets: torch.Tensor
    pixels: int
    noise: torch.Tensor

    def __call__(self, images: torch.Tensor) -> torch.Tensor:
        shifted = shift_by(images, self.offsets, self.pixels) if self.pixels else images
        return shifted + self.noise.to(images.dtype)


def draw(config: TrainConfig, generator: torch.Generator, device: torch.device) -> QView:
    """The batch's offsets and noise, drawn on the CPU generator (offsets first) so runs replay on any device."""
    shape = (config.batch_size, config.channels, config.image_size, config.image_size)
    offsets = shift_offsets(config.batch_size, generator, config.q_shift)
    noise = torch.randn(shape, generator=generator) * config.q_noise
    return QView(offsets, config.q_shift, noise.to(device))
