"""Property-based tests: random and mutated inputs to the IDX reader, the image decoders and the
command-line and config parsers either load correctly or raise InfoGANError, never anything else."""

import contextlib
import gzip
import io
import tempfile
from pathlib import Path

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from infogan.cli import build_parser, config_from_args
from infogan.config import TrainConfig
from infogan.data.folder import decode_all
from infogan.data.idx import IDX_TYPES, parse_idx, read_idx, write_idx
from infogan.errors import InfoGANError
from infogan.explore.upload import decode_upload, open_upload
from infogan.latent import SEED_LIMIT

SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def idx_bytes(array: np.ndarray) -> bytes:
    with tempfile.TemporaryDirectory() as folder:
        write_idx(Path(folder) / "a.idx", array)
        return (Path(folder) / "a.idx").read_bytes()


arrays = st.builds(
    lambda shape, code, seed: (
        np.random.default_rng(seed).integers(0, 100, shape).astype(IDX_TYPES[code].newbyteorder("="))
    ),
    st.lists(st.integers(0, 5), min_size=1, max_size=3),
    st.sampled_from(sorted(IDX_TYPES)),
    st.integers(0, 2**16),
)


@SETTINGS
@given(st.binary(max_size=64))
def test_random_bytes(raw):
    with contextlib.suppress(InfoGANError):
        parse_idx(raw)


@SETTINGS
@given(arrays, st.data())
def test_valid_files_round_trip_and_mutations_are_caught(array, data):
    raw = idx_bytes(array)
    assert np.array_equal(parse_idx(raw), array)
    mutation = data.draw(st.sampled_from(["flip", "truncate", "extend", "header"]))
    if mutation == "flip":
        position = data.draw(st.integers(0, len(raw) - 1))
        raw = raw[:position] + bytes([raw[position] ^ data.draw(st.integers(1, 255))]) + raw[position + 1 :]
    elif mutation == "truncate":
        raw = raw[: data.draw(st.integers(0, len(raw) - 1))]
    elif mutation == "extend":
        raw = raw + data.draw(st.binary(min_size=1, max_size=16))
    else:  # any header, including huge sizes whose product overflows 64 bits
        raw = (
            bytes([0, 0, raw[2], 3])
            + np.array(data.draw(st.lists(st.integers(0, 2**32 - 1), min_size=3, max_size=3)), ">u4").tobytes()
        )
    try:
        result = parse_idx(raw)
    except InfoGANError:
        return
    assert result.size * result.dtype.itemsize == len(raw) - 4 - 4 * result.ndim


@SETTINGS
@given(arrays, st.integers(0, 200), st.binary(max_size=8))
def test_damaged_gzip_files(array, cut, junk):
    packed = gzip.compress(idx_bytes(array))
    damaged = packed[: max(2, len(packed) - cut)] + junk
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "a.gz"
        path.write_bytes(damaged)
        with contextlib.suppress(InfoGANError):
            read_idx(path)


FLAGS = [
    "--noise",
    "--categorical",
    "--continuous",
    "--batch-size",
    "--lr-g",
    "--image-size",
    "--channels",
    "--epochs",
    "--steps",
    "--dataset",
    "--device",
    "--preset",
    "--keep-checkpoints",
    "--checkpoint-every",
    "--learn-std",
    "--no-learn-std",
    "--info-weight-cont",
    "--beta1",
    "--bogus",
    "--split",
]
VALUES = st.one_of(
    st.integers(-3, 70).map(str),
    st.sampled_from(["nan", "inf", "-inf", "1e-3", "0.5", "1", "mnist", "celeba", "cpu", "x", "", "-", "--", "1e400"]),
    st.text(max_size=5),
)


@SETTINGS
@given(st.lists(st.one_of(st.sampled_from(FLAGS), VALUES), max_size=10))
def test_command_line_options(argv):
    try:
        config = config_from_args(build_parser().parse_args(["train", *argv]))
    except InfoGANError:
        return
    assert config.validate() is config


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.floats() | st.text(max_size=5),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=3), inner, max_size=3),
    max_leaves=6,
)
FIELDS = [*TrainConfig.__dataclass_fields__, "nosie"]


@SETTINGS
@given(
    st.dictionaries(st.sampled_from(FIELDS), JSON_VALUES, max_size=6),
    st.dictionaries(st.sampled_from(FIELDS), st.integers(0, 20), max_size=4),
)
def test_config_json_values(values, small_ints):
    try:
        config = TrainConfig.from_dict({**values, **small_ints}).validate()
    except InfoGANError:
        return
    assert config.latent.input_dim >= 1


def image_bytes(format: str, seed: int) -> bytes:
    pixels = np.random.default_rng(seed).integers(0, 256, (12, 9, 3), dtype=np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format=format)
    return buffer.getvalue()


@SETTINGS
@given(st.sampled_from(["PNG", "JPEG"]), st.integers(0, 2**16), st.data())
def test_damaged_images(format, seed, data):
    """Flipped, cut or extended PNG/JPEG bytes: the explorer's upload and the image-folder loader either
    read them or raise InfoGANError, whatever Pillow raises inside."""
    raw = image_bytes(format, seed)
    position = data.draw(st.integers(0, len(raw) - 1))
    mutation = data.draw(st.sampled_from(["flip", "truncate", "extend"]))
    if mutation == "flip":
        raw = raw[:position] + bytes([raw[position] ^ data.draw(st.integers(1, 255))]) + raw[position + 1 :]
    elif mutation == "truncate":
        raw = raw[:position]
    else:
        raw = raw + data.draw(st.binary(min_size=1, max_size=16))
    with contextlib.suppress(InfoGANError):
        decode_upload(open_upload(raw), 28, 1)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"a.{format.lower()}"
        path.write_bytes(raw)
        with contextlib.suppress(InfoGANError):
            decode_all([path], 28, 3, None, skip_bad=False)


GENERATION_FLAGS = ["--columns", "--seed", "--out", "--cat", "--cont", "--vary-cat", "--steps", "--pairs", "--code"]


@SETTINGS
@given(
    st.sampled_from(["sample", "traverse", "interpolate"]),
    st.lists(
        st.one_of(st.sampled_from(GENERATION_FLAGS), VALUES, st.sampled_from(["a.png", "a.txt", "."])), max_size=8
    ),
)
def test_generation_command_lines(command, argv):
    """Counts and seeds that parse lie in their ranges, and --out is not a folder."""
    try:
        args = build_parser().parse_args([command, "RUN", *argv])
    except InfoGANError:
        return
    assert 0 <= args.seed < SEED_LIMIT
    assert all(1 <= getattr(args, name, 1) <= 100 for name in ("columns", "pairs"))
    assert 2 <= getattr(args, "steps", 2) <= 100
    assert args.out is None or not args.out.is_dir()
