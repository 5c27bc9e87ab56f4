"""Procedural dSprites: the 737,280 binary 64x64 sprites of the dSprites grid, drawn from their factors.

The original dsprites_ndarray file holds a square, an ellipse or a heart at 6 scales x 40 orientations
x 32 x 32 positions. This module redraws every one from the geometry measured on that file, so tests,
metrics and training need no download, and any sprite can be rendered on demand from its factor classes.

Geometry, in pixels, with x = column, y = row pointing down, and a pixel on when its centre
(column + 0.5, row + 0.5) lies inside the shape:
- centre at (16 + 32 posX, 16 + 32 posY);
- square of side 19.2 s; ellipse with semi-axes 12.8 s (along x) and 7.2 s (along y);
- heart: two discs of radius 5.2 s centred at (+-4.6 s, -4.0 s), joined by their outer tangents to a
  tip at (0, +8.8 s), so the lobes point up on screen;
- a positive orientation turns the sprite counterclockwise as seen on screen (y down), about its centre.
"""

from __future__ import annotations

import zipfile
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from infogan.cache import cache_dir as infogan_cache
from infogan.errors import InfoGANError

FACTOR_NAMES = ("shape", "scale", "orientation", "posX", "posY")
FACTOR_SIZES = (3, 6, 40, 32, 32)
SHAPE_NAMES = ("square", "ellipse", "heart")
IMAGE_SIZE = 64
NUM_IMAGES = int(np.prod(FACTOR_SIZES))  # 737,280


def _read_only(values: np.ndarray) -> np.ndarray:
    values.flags.writeable = False
    return values


# The value of each class, as in the original file's latents_values (shapes are numbered 1..3 there).
FACTOR_VALUES = (
    _read_only(np.array([1.0, 2.0, 3.0])),
    _read_only(np.linspace(0.5, 1.0, 6)),
    _read_only(np.linspace(0.0, 2 * np.pi, 40)),  # 0 and 2 pi both present, like the original
    _read_only(np.linspace(0.0, 1.0, 32)),
    _read_only(np.linspace(0.0, 1.0, 32)),
)

# Shapes at scale 1, in the sprite's own frame (u along its x axis, v along its y axis, v down).
_SQUARE_HALF_SIDE = 9.6
_ELLIPSE_SEMI_AXES = (12.8, 7.2)
_HEART_LOBE_RADIUS = 5.2
_HEART_LOBE_CENTRE = np.array([4.6, -4.0])  # right lobe; the left one is its mirror image
_HEART_TIP = np.array([0.0, 8.8])

# Only pixels within 14.5 px of the centre are tested: the farthest any shape reaches is the unit
# square's half-diagonal, 9.6 sqrt(2) = 13.6 px. Windows of 29 x 29 pixels starting 14 pixels
# before the centre's pixel cover that, and stay inside the image because centres lie in [16, 48].
_WINDOW = 29
_WINDOW_MARGIN = 14

# Images rendered at once when a whole set is generated: ~50 MB of temporaries per chunk.
_CHUNK = 4096

# Bump when the geometry changes, so caches drawn with the old geometry are redrawn.
_CACHE_VERSION = 1


def _outer_tangent_point(centre: np.ndarray, radius: float, tip: np.ndarray) -> np.ndarray:
    """Where the line from `tip` touching the disc on its far side from the heart's axis meets it."""
    to_tip = tip - centre
    towards_tip = np.arctan2(to_tip[1], to_tip[0])
    spread = np.arccos(radius / np.hypot(*to_tip))
    points = [centre + radius * np.array([np.cos(towards_tip + s), np.sin(towards_tip + s)]) for s in (spread, -spread)]
    return max(points, key=lambda point: abs(point[0]))


def _half_planes(vertices: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Normals (K, 2) and offsets (K,) such that a convex polygon is {p : normals @ p <= offsets}."""
    edges = np.roll(vertices, -1, axis=0) - vertices  # (K, 2)
    normals = np.stack([edges[:, 1], -edges[:, 0]], axis=1)
    offsets = np.einsum("kd,kd->k", normals, vertices)
    inward = normals @ vertices.mean(axis=0) > offsets  # the centroid must satisfy every inequality
    normals[inward] *= -1
    offsets[inward] *= -1
    return normals, offsets


def _heart_half_planes() -> tuple[np.ndarray, np.ndarray]:
    """The heart's body: the polygon from the tip along each outer tangent to the lobe centres."""
    right_tangent = _outer_tangent_point(_HEART_LOBE_CENTRE, _HEART_LOBE_RADIUS, _HEART_TIP)
    mirror = np.array([-1.0, 1.0])
    vertices = np.stack(
        [_HEART_TIP, right_tangent, _HEART_LOBE_CENTRE, _HEART_LOBE_CENTRE * mirror, right_tangent * mirror]
    )  # (5, 2)
    return _half_planes(vertices)


_HEART_NORMALS, _HEART_OFFSETS = _heart_half_planes()


def _inside_square(u: np.ndarray, v: np.ndarray) -> np.ndarray:
    return (np.abs(u) <= _SQUARE_HALF_SIDE) & (np.abs(v) <= _SQUARE_HALF_SIDE)


def _inside_ellipse(u: np.ndarray, v: np.ndarray) -> np.ndarray:
    return (u / _ELLIPSE_SEMI_AXES[0]) ** 2 + (v / _ELLIPSE_SEMI_AXES[1]) ** 2 <= 1.0


def _inside_heart(u: np.ndarray, v: np.ndarray) -> np.ndarray:
    lobe_x, lobe_y = _HEART_LOBE_CENTRE
    v_from_lobes = (v - lobe_y) ** 2
    inside = (u - lobe_x) ** 2 + v_from_lobes <= _HEART_LOBE_RADIUS**2
    inside |= (u + lobe_x) ** 2 + v_from_lobes <= _HEART_LOBE_RADIUS**2
    body = np.ones_like(inside)
    for (normal_u, normal_v), offset in zip(_HEART_NORMALS, _HEART_OFFSETS, strict=True):
        body &= normal_u * u + normal_v * v <= offset
    return inside | body


_INSIDE = (_inside_square, _inside_ellipse, _inside_heart)  # indexed by shape class


def render_values(values: np.ndarray) -> np.ndarray:
    """Draw sprites from factor values (N, 5), in the units of `FACTOR_VALUES`, as (N, 64, 64) uint8.

    Pixels are 0 or 1. Values need not lie on the grid: any scale in (0, 1], any orientation and
    positions in [0, 1] work.
    """
    values = np.asarray(values, dtype=np.float64)
    if values.ndim != 2 or values.shape[1] != len(FACTOR_NAMES):
        raise InfoGANError(f"dSprites factor values must have shape (N, 5), got {values.shape}")
    shape, scale, angle, pos_x, pos_y = values.T  # each (N,)
    if not np.isin(shape, FACTOR_VALUES[0]).all():
        raise InfoGANError("dSprites shape values must be 1 (square), 2 (ellipse) or 3 (heart)")
    if not ((scale > 0) & (scale <= 1)).all():
        raise InfoGANError("dSprites scales must lie in (0, 1]")
    if not ((pos_x >= 0) & (pos_x <= 1) & (pos_y >= 0) & (pos_y <= 1)).all():
        raise InfoGANError("dSprites positions must lie in [0, 1]")

    n = len(values)
    centre_x = 16.0 + 32.0 * pos_x  # (N,)
    centre_y = 16.0 + 32.0 * pos_y
    col0 = np.floor(centre_x).astype(np.int64) - _WINDOW_MARGIN  # window's first column, (N,)
    row0 = np.floor(centre_y).astype(np.int64) - _WINDOW_MARGIN
    offsets = np.arange(_WINDOW)
    dx = (col0[:, None] + offsets + 0.5 - centre_x[:, None])[:, None, :]  # (N, 1, W): pixel centre - centre
    dy = (row0[:, None] + offsets + 0.5 - centre_y[:, None])[:, :, None]  # (N, W, 1)
    # Into the sprite's frame at unit scale: u = (dx cos - dy sin) / s, v = (dx sin + dy cos) / s.
    cos = (np.cos(angle) / scale)[:, None, None]  # (N, 1, 1)
    sin = (np.sin(angle) / scale)[:, None, None]

    windows = np.empty((n, _WINDOW, _WINDOW), dtype=np.uint8)
    for shape_class, inside in enumerate(_INSIDE):
        mine = shape == FACTOR_VALUES[0][shape_class]
        if mine.any():
            u = dx[mine] * cos[mine] - dy[mine] * sin[mine]  # (n_shape, W, W)
            v = dx[mine] * sin[mine] + dy[mine] * cos[mine]
            windows[mine] = inside(u, v)

    # Paste each window into a blank image through flat pixel indices.
    images = np.zeros((n, IMAGE_SIZE * IMAGE_SIZE), dtype=np.uint8)
    window_pixels = (offsets[:, None] * IMAGE_SIZE + offsets).ravel()  # (W*W,)
    pixels = (row0 * IMAGE_SIZE + col0)[:, None] + window_pixels  # (N, W*W)
    np.put_along_axis(images, pixels, windows.reshape(n, -1), axis=1)
    return images.reshape(n, IMAGE_SIZE, IMAGE_SIZE)


def _check_classes(classes: np.ndarray) -> np.ndarray:
    classes = np.asarray(classes)
    if classes.ndim != 2 or classes.shape[1] != len(FACTOR_SIZES):
        raise InfoGANError(f"dSprites factor classes must have shape (N, 5), got {classes.shape}")
    if not np.issubdtype(classes.dtype, np.integer) or (classes < 0).any() or (classes >= FACTOR_SIZES).any():
        raise InfoGANError(f"dSprites factor classes must be integers below the factor sizes {FACTOR_SIZES}")
    return classes.astype(np.int64)


def classes_to_values(classes: np.ndarray) -> np.ndarray:
    """Factor values (N, 5) float64 for factor classes (N, 5)."""
    classes = _check_classes(classes)
    return np.stack([values[column] for values, column in zip(FACTOR_VALUES, classes.T, strict=True)], axis=1)


def render(classes: np.ndarray) -> np.ndarray:
    """Draw the grid sprites with factor classes (N, 5) as (N, 64, 64) uint8 in {0, 1}."""
    return render_values(classes_to_values(classes))


def classes_to_index(classes: np.ndarray) -> np.ndarray:
    """Positions (N,) in the original file's order: mixed radix, shape slowest and posY fastest."""
    return np.ravel_multi_index(tuple(_check_classes(classes).T), FACTOR_SIZES).astype(np.int64)


def _check_indices(indices: np.ndarray) -> np.ndarray:
    indices = np.asarray(indices)
    if not np.issubdtype(indices.dtype, np.integer) or (indices < 0).any() or (indices >= NUM_IMAGES).any():
        raise InfoGANError(f"dSprites indices must be integers in [0, {NUM_IMAGES})")
    return indices


def index_to_classes(indices: np.ndarray) -> np.ndarray:
    """Factor classes (N, 5) of the sprites at positions (N,) of the original file."""
    return np.stack(np.unravel_index(_check_indices(indices), FACTOR_SIZES), axis=-1).astype(np.int64)


def sample_factors(n: int, rng: np.random.Generator) -> np.ndarray:
    """Factor classes (n, 5) drawn uniformly and independently, i.e. a uniform draw from the grid."""
    return rng.integers(0, FACTOR_SIZES, size=(n, len(FACTOR_SIZES)))


def _render_chunks(indices: np.ndarray) -> Iterator[tuple[int, np.ndarray]]:
    """Yield (start, images (<= _CHUNK, 64, 64)) through `indices` chunk by chunk, to bound memory."""
    for start in range(0, len(indices), _CHUNK):
        yield start, render(index_to_classes(indices[start : start + _CHUNK]))


class DSprites:
    """The dSprites grid as a dataset and as a ground truth for the disentanglement metrics.

    Images are rendered on demand (about 30 us each); `load_cache` renders the whole set once into a
    bit-packed file (~400 MB in memory) for training loops that want plain lookups.
    """

    factor_names = FACTOR_NAMES
    factor_sizes = FACTOR_SIZES

    def __init__(self) -> None:
        self._packed: np.ndarray | None = None  # (737280, 64, 8) uint8 once a cache is loaded

    def __len__(self) -> int:
        return NUM_IMAGES

    def images(self, indices: np.ndarray) -> np.ndarray:
        """Images (N, 64, 64) uint8 in {0, 1} of the sprites at `indices` (N,)."""
        if self._packed is None:
            return render(index_to_classes(indices))
        return np.unpackbits(self._packed[_check_indices(indices)], axis=-1)

    def all_images(self) -> np.ndarray:
        """All 737,280 images (N, 64, 64) uint8 in {0, 1} (~3 GB), unpacked from the cache (`load_cache` first)."""
        if self._packed is None:
            raise InfoGANError("dSprites images are not cached: call load_cache() before all_images()")
        return np.unpackbits(self._packed, axis=-1)

    def latents_classes(self, indices: np.ndarray) -> np.ndarray:
        """Factor classes (N, 5), without the original file's constant colour column."""
        return index_to_classes(indices)

    def latents_values(self, indices: np.ndarray) -> np.ndarray:
        """Factor values (N, 5), without the original file's constant colour column."""
        return classes_to_values(index_to_classes(indices))

    def sample(self, n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        """A uniform draw: factor classes (n, 5) and images (n, 64, 64)."""
        classes = sample_factors(n, rng)
        return classes, self.observe(classes, rng)

    def observe(self, classes: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Images (n, 64, 64) of factor classes (n, 5); `rng` is unused since sprites are noise-free."""
        return self.images(classes_to_index(classes))

    def load_cache(self, cache_dir: str | Path | None = None) -> Path:
        """Serve images from `cache_dir`/dsprites.npz, rendering it first if missing or stale."""
        path = Path(cache_dir or infogan_cache()) / "dsprites.npz"
        packed_shape = (NUM_IMAGES, IMAGE_SIZE, IMAGE_SIZE // 8)
        if path.exists():
            with np.load(path) as cache:
                if int(cache["version"]) == _CACHE_VERSION and cache["packed_imgs"].shape == packed_shape:
                    self._packed = cache["packed_imgs"]
                    return path
        packed = np.empty(packed_shape, dtype=np.uint8)
        for start, images in _render_chunks(np.arange(NUM_IMAGES)):
            packed[start : start + len(images)] = np.packbits(images, axis=-1)
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(".partial.npz")  # renamed once complete, so a crash leaves no bad cache
        np.savez(partial, packed_imgs=packed, version=_CACHE_VERSION)
        partial.replace(path)
        self._packed = packed
        return path


def sample_images_and_factors(n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """A uniform draw of n sprites: factor classes (n, 5) int64 and images (n, 64, 64) uint8."""
    return DSprites().sample(n, rng)


def read_npz(path: str | Path) -> tuple[np.ndarray, np.ndarray]:
    """Images (N, 64, 64) uint8 and factor classes (N, 5) from a file in the original layout: the real
    dsprites_ndarray file or one that `write_npz` wrote. The colour column is dropped."""
    try:
        with np.load(path) as archive:
            images, classes = archive["imgs"], archive["latents_classes"]
    except (OSError, ValueError, KeyError, zipfile.BadZipFile) as error:
        raise InfoGANError(f"{path} is not a dSprites .npz with imgs and latents_classes ({error})") from None
    if images.shape[1:] != (IMAGE_SIZE, IMAGE_SIZE) or classes.shape != (len(images), 1 + len(FACTOR_SIZES)):
        raise InfoGANError(f"{path} holds imgs {images.shape} and latents_classes {classes.shape}, not dSprites'")
    return images.astype(np.uint8, copy=False), classes[:, 1:].astype(np.int64)


def write_npz(path: str | Path, indices: np.ndarray | None = None) -> None:
    """Write sprites in the layout of the original dsprites_ndarray file, compressed.

    `indices` restricts the file to those sprites (default: all 737,280, ~3 GB before compression;
    images are streamed into the archive chunk by chunk, so memory stays small).
    Keys: imgs (N, 64, 64) uint8; latents_values (N, 6) float64 and latents_classes (N, 6) int64 with
    the constant colour factor first (value 1.0, class 0); latents_names; latents_sizes.
    """
    indices = np.arange(NUM_IMAGES) if indices is None else np.asarray(indices)
    classes = index_to_classes(indices)  # (N, 5)
    colour = np.zeros((len(indices), 1), dtype=np.int64)
    arrays = {
        "latents_classes": np.hstack([colour, classes]),
        "latents_values": np.hstack([colour + 1.0, classes_to_values(classes)]),
        "latents_names": np.array(("color", *FACTOR_NAMES)),
        "latents_sizes": np.array((1, *FACTOR_SIZES), dtype=np.int64),
    }
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED, allowZip64=True) as archive:
        for name, array in arrays.items():
            with archive.open(f"{name}.npy", "w", force_zip64=True) as member:
                np.lib.format.write_array(member, array, allow_pickle=False)
        with archive.open("imgs.npy", "w", force_zip64=True) as member:
            header = {"descr": "|u1", "fortran_order": False, "shape": (len(indices), IMAGE_SIZE, IMAGE_SIZE)}
            np.lib.format.write_array_header_1_0(member, header)
            for _, images in _render_chunks(indices):
                member.write(images.tobytes())
