"""InfoGAN-CR's sample-quality score on dSprites: a shape classifier trained on real sprites reads generated ones.

Lin et al. (2020) train a small CNN to tell square, ellipse and heart apart on real dSprites, run it on
generated images and report an Inception score over the 3 shapes, exp(E_x KL(p(y|x) || p(y))) in [1, 3]
(3: every image is confidently one shape and the shapes are equally frequent), with the classifier's
mean confidence and the KL divergence of the predicted-shape histogram from uniform (mode dropping).
"""

from __future__ import annotations

import logging

import numpy as np
import torch
import torch.nn.functional as F
from scipy.stats import entropy
from torch import nn

from infogan.data import to_unit_range
from infogan.data.dsprites import DSprites

log = logging.getLogger(__name__)

LEAK = 0.1


class ShapeClassifier(nn.Module):
    """(B, 1, 64, 64) in [-1, 1] -> 3 shape logits: (conv 4x4/2 lReLU BN) x 4 (32, 32, 64, 64) -> FC 128 -> 3."""

    def __init__(self) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        for c_in, c_out in ((1, 32), (32, 32), (32, 64), (64, 64)):
            layers += [nn.Conv2d(c_in, c_out, 4, 2, 1), nn.LeakyReLU(LEAK, True), nn.BatchNorm2d(c_out)]
        self.net = nn.Sequential(
            *layers, nn.Flatten(), nn.Linear(64 * 4 * 4, 128), nn.LeakyReLU(LEAK, True), nn.Linear(128, 3)
        )

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.net(images)  # (B, 3)


def _unit_range(sprites: np.ndarray) -> torch.Tensor:
    """{0, 1} sprites (N, 64, 64) -> (N, 1, 64, 64) in [-1, 1], the range of G's output."""
    return to_unit_range(torch.from_numpy(sprites * np.uint8(255))[:, None])


def train_shape_classifier(
    sprites: DSprites, steps: int = 1000, batch_size: int = 64, seed: int = 0, device: str | torch.device = "cpu"
) -> tuple[ShapeClassifier, float]:
    """Train on uniform draws of real sprites (Adam, lr 1e-3); returns (classifier in eval mode, its accuracy
    on 2,000 fresh real sprites). The authors trained 5 epochs of the whole set; shape is easy, and a few
    thousand images per class already give near-perfect held-out accuracy."""
    rng = np.random.default_rng(seed)
    torch.manual_seed(seed)
    classifier = ShapeClassifier().to(device)
    optimizer = torch.optim.Adam(classifier.parameters(), 1e-3)
    classifier.train()
    for _ in range(steps):
        classes, images = sprites.sample(batch_size, rng)
        loss = F.cross_entropy(classifier(_unit_range(images).to(device)), torch.from_numpy(classes[:, 0]).to(device))
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
    classifier.eval()
    classes, images = sprites.sample(2000, rng)
    predicted = shape_probabilities(classifier, _unit_range(images)).argmax(1)
    accuracy = float(np.mean(predicted == classes[:, 0]))
    log.info("shape classifier: %.4f accuracy on 2,000 held-out real sprites", accuracy)
    return classifier, accuracy


@torch.no_grad()
def shape_probabilities(classifier: ShapeClassifier, images: torch.Tensor, batch_size: int = 500) -> np.ndarray:
    """p(shape | x) (N, 3) for images (N, 1, 64, 64) in [-1, 1]."""
    device = next(classifier.parameters()).device
    chunks = [F.softmax(classifier(chunk.to(device)).float(), 1).cpu() for chunk in images.split(batch_size)]
    return torch.cat(chunks).numpy().astype(np.float64)


def shape_scores(probabilities: np.ndarray) -> dict[str, float]:
    """From p(shape | x) (N, 3): Inception score exp(mean KL(p(y|x) || p(y))), mean max probability, and
    KL(histogram of argmax || uniform)."""
    marginal = probabilities.mean(axis=0)  # p(y), (3,)
    kl = entropy(probabilities.T, marginal[:, None])  # (N,): KL of each row against the marginal
    counts = np.bincount(probabilities.argmax(axis=1), minlength=probabilities.shape[1])
    uniform = np.full(probabilities.shape[1], 1.0 / probabilities.shape[1])
    return {
        "shape_inception_score": float(np.exp(kl.mean())),
        "shape_confidence": float(probabilities.max(axis=1).mean()),
        "shape_mode_kl": float(entropy(counts / counts.sum(), uniform)),
    }
