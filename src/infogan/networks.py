"""InfoGAN networks: generator G(z, c), discriminator trunk shared by D's head and Q's head.

28x28 networks follow the paper's appendix (MNIST); 64x64 ones are DCGAN networks with the same
1024-unit fully connected layers (faces, dSprites); `paper-celeba` is the paper's CelebA table
(32x32). Read top to bottom: Generator, Trunk, the two
heads, then the InfoGAN container that holds them.
"""

from __future__ import annotations

import itertools
import typing
from dataclasses import dataclass

import torch
from torch import nn

from infogan.contrastive import ContrastiveHead
from infogan.errors import InfoGANError
from infogan.latent import LatentSpec

if typing.TYPE_CHECKING:
    from infogan.config import TrainConfig


@dataclass(frozen=True)
class Layout:
    """The shape of one network family at one image size.

    base: spatial size after G's fully connected layers; widths: channels of G's stride-2 stages;
    units: width of G's first and D's last fully connected layer (None: no such layer, as in the paper's
    CelebA table); g_norm: G's stride-2 stages followed by batch norm (the rest have none);
    d_widths: channels of D's stride-2 convolutions (default: G's mirrored).
    """

    base: int
    widths: tuple[int, ...]
    units: int | None
    g_norm: int | None = None
    d_widths: tuple[int, ...] | None = None

    @property
    def d_channels(self) -> tuple[int, ...]:
        return self.d_widths or self.widths[::-1]

    @property
    def d_base(self) -> int:
        """D's spatial size after its convolutions."""
        return self.base * 2 ** (len(self.widths) - len(self.d_channels))

    @property
    def features(self) -> int:
        """Length of the trunk's output, which D's and Q's heads read."""
        return self.units or self.d_base**2 * self.d_channels[-1]


# network name -> image size -> layout; the names are config.NETWORKS
LAYOUTS: dict[str, dict[int, Layout]] = {
    "paper": {
        28: Layout(7, (128, 64), 1024),  # the paper's MNIST table: FC 1024, FC 7x7x128 -> deconv 64 -> deconv C
        32: Layout(8, (128, 64), 1024),
        64: Layout(4, (512, 256, 128, 64), 1024),  # DCGAN: 4x4x512 -> 256 -> 128 -> 64 -> C, with FC 1024
    },
    # Lin et al.'s (InfoGAN-CR) dSprites widths: FC 128 -> 4x4x64 -> 64 -> 32 -> 32 -> C, D mirroring them;
    # about a tenth of DCGAN's FLOPs at 64x64, which is what makes dSprites trainable on a CPU.
    "small": {64: Layout(4, (64, 64, 32, 32), 128)},
    # the paper's CelebA table (appendix C): G: FC 2x2x448 BN -> deconv 256 BN -> 128 -> 64 -> 3, batch norm
    # after the first deconvolution only; D: conv 64 -> 128 BN -> 256 BN -> FC (no 1024-unit layer); Q: FC 128
    "paper-celeba": {32: Layout(2, (448, 256, 128, 64), None, g_norm=1, d_widths=(64, 128, 256))},
}
LEAK = 0.1  # the paper's leaky ReLU slope


def architecture(image_size: int, network: str = "paper") -> Layout:
    """The layout of `network` at `image_size`, or a ValueError naming the sizes it exists for."""
    if network not in LAYOUTS or image_size not in LAYOUTS[network]:
        raise ValueError(f"no {network!r} network for {image_size}x{image_size} images")
    return LAYOUTS[network][image_size]


class Generator(nn.Module):
    """G: FC 1024 BN ReLU -> FC s*s*C0 BN ReLU -> (deconv 4x4/2 BN ReLU)* -> deconv 4x4/2 tanh (FC 128 if small;
    no FC 1024 and batch norm in the first deconvolution only in the paper's CelebA layout)."""

    def __init__(self, input_dim: int, image_size: int, channels: int, network: str = "paper"):
        super().__init__()
        layout = architecture(image_size, network)
        base, widths = layout.base, layout.widths
        self.base, self.width0 = base, widths[0]
        first: list[nn.Module] = []  # the 1024-unit layer, where the layout has one
        if layout.units:
            first = [nn.Linear(input_dim, layout.units, bias=False), nn.BatchNorm1d(layout.units), nn.ReLU(True)]
        self.fc = nn.Sequential(
            *first,
            nn.Linear(layout.units or input_dim, base * base * widths[0], bias=False),
            nn.BatchNorm1d(base * base * widths[0]),
            nn.ReLU(inplace=True),
        )
        layers: list[nn.Module] = []
        for stage, (c_in, c_out) in enumerate(itertools.pairwise(widths)):
            norm = layout.g_norm is None or stage < layout.g_norm
            layers += [nn.ConvTranspose2d(c_in, c_out, 4, 2, 1, bias=not norm), *_batch_norm(c_out, norm)]
            layers.append(nn.ReLU(True))
        layers += [nn.ConvTranspose2d(widths[-1], channels, 4, 2, 1), nn.Tanh()]
        self.deconv = nn.Sequential(*layers)

    def forward(self, latent_input: torch.Tensor) -> torch.Tensor:
        x = self.fc(latent_input)  # (B, s*s*C0)
        x = x.view(-1, self.width0, self.base, self.base)  # (B, C0, s, s)
        return self.deconv(x)  # (B, C, H, W) in [-1, 1]


class Trunk(nn.Module):
    """Shared by D and Q: conv 4x4/2 64 lReLU -> (conv 4x4/2 BN lReLU)* -> FC 1024 (small: 128) BN lReLU; the
    paper's CelebA layout has no FC layer, and its heads read the flattened convolutions.

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
        layout = architecture(image_size, network)
        self.units = layout.features
        widths = layout.d_channels  # D mirrors G: 64 -> 128 (-> 256 -> 512), unless the layout says otherwise
        norm = nn.utils.spectral_norm if spectral_norm else (lambda module: module)
        layers: list[nn.Module] = [norm(nn.Conv2d(channels, widths[0], 4, 2, 1)), nn.LeakyReLU(LEAK, True)]
        for c_in, c_out in itertools.pairwise(widths):
            layers += [norm(nn.Conv2d(c_in, c_out, 4, 2, 1, bias=not batch_norm)), *_batch_norm(c_out, batch_norm)]
            layers.append(nn.LeakyReLU(LEAK, True))
        self.conv = nn.Sequential(*layers)
        self.fc = nn.Sequential()  # no layer: the flattened convolutions (the paper's CelebA D)
        if layout.units:
            fc = norm(nn.Linear(layout.d_base**2 * widths[-1], layout.units, bias=not batch_norm))
            self.fc = nn.Sequential(fc, *_batch_norm(layout.units, batch_norm, dims=1), nn.LeakyReLU(LEAK, True))

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
        units = architecture(image_size, network).features
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
