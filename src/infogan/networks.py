"""InfoGAN networks: generator G(z, c), discriminator trunk shared by D's head and Q's head.

28x28 networks follow the paper's appendix (MNIST); 64x64 ones are DCGAN networks with the same
1024-unit fully connected layers (faces, dSprites). Read top to bottom: Generator, Trunk, the two
heads, then the InfoGAN container that holds them.
"""

from __future__ import annotations

import itertools
import typing

import torch
from torch import nn

from infogan.contrastive import ContrastiveHead
from infogan.errors import InfoGANError
from infogan.latent import LatentSpec

if typing.TYPE_CHECKING:
    from infogan.config import TrainConfig

# image size -> (spatial size after the fully connected layers, channels of each stride-2 stage in G)
ARCHITECTURES: dict[int, tuple[int, tuple[int, ...]]] = {
    28: (7, (128, 64)),  # paper: FC 7x7x128 -> deconv 64 -> deconv C
    32: (8, (128, 64)),
    64: (4, (512, 256, 128, 64)),  # DCGAN: 4x4x512 -> 256 -> 128 -> 64 -> C
}
# Lin et al.'s (InfoGAN-CR) dSprites widths: FC 128 -> 4x4x64 -> 64 -> 32 -> 32 -> C, D mirroring them; about
# a tenth of DCGAN's FLOPs at 64x64, which is what makes dSprites trainable on a CPU.
SMALL_ARCHITECTURES: dict[int, tuple[int, tuple[int, ...]]] = {64: (4, (64, 64, 32, 32))}
FC_UNITS = {"paper": 1024, "small": 128}  # width of G's first and D's last fully connected layer, per config.NETWORKS
LEAK = 0.1  # the paper's leaky ReLU slope


def architecture(image_size: int, network: str = "paper") -> tuple[int, tuple[int, ...], int]:
    """(spatial size after G's fully connected layers, channels of G's stride-2 stages, FC units)."""
    table = SMALL_ARCHITECTURES if network == "small" else ARCHITECTURES
    if network not in FC_UNITS or image_size not in table:
        raise ValueError(f"no {network!r} network for {image_size}x{image_size} images")
    base, widths = table[image_size]
    return base, widths, FC_UNITS[network]


class Generator(nn.Module):
    """G: FC 1024 BN ReLU -> FC s*s*C0 BN ReLU -> (deconv 4x4/2 BN ReLU)* -> deconv 4x4/2 tanh (FC 128 if small)."""

    def __init__(self, input_dim: int, image_size: int, channels: int, network: str = "paper"):
        super().__init__()
        base, widths, units = architecture(image_size, network)
        self.base, self.width0 = base, widths[0]
        self.fc = nn.Sequential(
            nn.Linear(input_dim, units, bias=False),
            nn.BatchNorm1d(units),
            nn.ReLU(inplace=True),
            nn.Linear(units, base * base * widths[0], bias=False),
            nn.BatchNorm1d(base * base * widths[0]),
            nn.ReLU(inplace=True),
        )
        layers: list[nn.Module] = []
        for c_in, c_out in itertools.pairwise(widths):
            layers += [nn.ConvTranspose2d(c_in, c_out, 4, 2, 1, bias=False), nn.BatchNorm2d(c_out), nn.ReLU(True)]
        layers += [nn.ConvTranspose2d(widths[-1], channels, 4, 2, 1), nn.Tanh()]
        self.deconv = nn.Sequential(*layers)

    def forward(self, latent_input: torch.Tensor) -> torch.Tensor:
        x = self.fc(latent_input)  # (B, s*s*C0)
        x = x.view(-1, self.width0, self.base, self.base)  # (B, C0, s, s)
        return self.deconv(x)  # (B, C, H, W) in [-1, 1]


class Trunk(nn.Module):
    """Shared by D and Q: conv 4x4/2 64 lReLU -> (conv 4x4/2 BN lReLU)* -> FC 1024 (small: 128) BN lReLU.

    Without batch norm (InfoGAN-CR's D, `batch_norm=False`) the layers carry biases instead.
    """

    def __init__(
        self,
        image_size: int,
        channels: int,
        spectral_norm: bool = False,
        network: str = "paper",
        batch_norm: bool = True,
    ):
        super().__init__()
        base, widths, units = architecture(image_size, network)
        self.units = units
        widths = widths[::-1]  # D mirrors G: 64 -> 128 (-> 256 -> 512)
        norm = nn.utils.spectral_norm if spectral_norm else (lambda module: module)
        layers: list[nn.Module] = [norm(nn.Conv2d(channels, widths[0], 4, 2, 1)), nn.LeakyReLU(LEAK, True)]
        for c_in, c_out in itertools.pairwise(widths):
            layers += [norm(nn.Conv2d(c_in, c_out, 4, 2, 1, bias=not batch_norm)), *_batch_norm(c_out, batch_norm)]
            layers.append(nn.LeakyReLU(LEAK, True))
        self.conv = nn.Sequential(*layers)
        fc = norm(nn.Linear(base * base * widths[-1], units, bias=not batch_norm))
        self.fc = nn.Sequential(fc, *_batch_norm(units, batch_norm, dims=1), nn.LeakyReLU(LEAK, True))

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        x = self.conv(images)  # (B, C_last, s, s)
        return self.fc(x.flatten(1))  # (B, units)


def _batch_norm(features: int, on: bool, dims: int = 2) -> list[nn.Module]:
    """[BatchNorm over `features`] when `on`, else no layer."""
    if not on:
        return []
    return [nn.BatchNorm2d(features) if dims == 2 else nn.BatchNorm1d(features)]


class QHead(nn.Module):
    """Q(c|x): FC 128 BN lReLU -> categorical logits, continuous means (and log-stds when learned).

    Without batch norm, `norm` (spectral norm or none) wraps both layers, as in InfoGAN-CR's Q.
    """

    def __init__(self, spec: LatentSpec, learn_std: bool, features: int = 1024, batch_norm: bool = True, norm=None):
        super().__init__()
        self.spec, self.learn_std = spec, learn_std
        norm = norm or (lambda module: module)
        outputs = sum(spec.categorical) + spec.continuous * (2 if learn_std else 1)
        hidden = norm(nn.Linear(features, 128, bias=not batch_norm))
        layers = [hidden, *_batch_norm(128, batch_norm, dims=1), nn.LeakyReLU(LEAK, True)]
        self.net = nn.Sequential(*layers, norm(nn.Linear(128, outputs)))

    def forward(self, features: torch.Tensor) -> tuple[list[torch.Tensor], torch.Tensor, torch.Tensor | None]:
        """Returns (a list of (B, K_i) raw logits, (B, n_cont) means, (B, n_cont) log-stds or None)."""
        out = self.net(features)
        logits = list(out[:, : sum(self.spec.categorical)].split(list(self.spec.categorical), dim=1))
        cont = out[:, sum(self.spec.categorical) :]
        if self.learn_std:
            return logits, cont[:, : self.spec.continuous], cont[:, self.spec.continuous :]
        return logits, cont, None


class InfoGAN(nn.Module):
    """Container of the four parameter groups: generator, trunk, d_head, q_head; plus cr_head, InfoGAN-CR's
    pair classifier (infogan.contrastive), when `contrastive` asks for it."""

    def __init__(
        self,
        spec: LatentSpec,
        image_size: int,
        channels: int,
        learn_std: bool = False,
        spectral_norm: bool = False,
        network: str = "paper",
        contrastive: bool = False,
        d_batch_norm: bool = True,
    ):
        super().__init__()
        units = architecture(image_size, network)[2]
        self.spec = spec
        self.generator = Generator(spec.input_dim, image_size, channels, network)
        self.trunk = Trunk(image_size, channels, spectral_norm, network, d_batch_norm)
        # spectral norm in the heads too once no batch norm rescales D (InfoGAN-CR's D: every layer)
        head_norm = nn.utils.spectral_norm if spectral_norm and not d_batch_norm else (lambda module: module)
        self.d_head = head_norm(nn.Linear(units, 1))  # D(x) as a logit
        self.q_head = QHead(spec, learn_std, units, d_batch_norm, head_norm)
        self.cr_head = ContrastiveHead(image_size, channels, spec.continuous) if contrastive else None
        self.apply(init_weights)

    def discriminate(self, images: torch.Tensor) -> tuple[torch.Tensor, tuple]:
        """One trunk pass for both heads: (D logits (B,), Q's outputs)."""
        features = self.trunk(images)
        return self.d_head(features).squeeze(1), self.q_head(features)


def build_model(config: TrainConfig) -> InfoGAN:
    """The networks a config describes, freshly initialised."""
    return InfoGAN(
        config.latent,
        config.image_size,
        config.channels,
        config.learn_std,
        config.spectral_norm,
        config.network,
        contrastive=config.cr_weight > 0,
        d_batch_norm=config.d_batch_norm,
    )


def resolve_device(name: str) -> torch.device:
    """auto -> CUDA when present, else CPU; asking for CUDA without one is an error."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise InfoGANError("--device cuda asked for, but PyTorch sees no CUDA device: use --device cpu")
    return torch.device(name)


def init_weights(module: nn.Module) -> None:
    """Weights ~ N(0, 0.02) as in DCGAN and InfoGAN; batch-norm scales ~ N(1, 0.02), biases 0."""
    if isinstance(module, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)):
        weight = getattr(module, "weight_orig", module.weight)  # spectral norm keeps the raw weight here
        nn.init.normal_(weight, 0.0, 0.02)
        if module.bias is not None:
            nn.init.zeros_(module.bias)
    elif isinstance(module, (nn.BatchNorm1d, nn.BatchNorm2d)):
        nn.init.normal_(module.weight, 1.0, 0.02)
        nn.init.zeros_(module.bias)
