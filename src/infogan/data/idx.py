"""Reader and writer of the IDX format of MNIST and Fashion-MNIST, gzipped or raw.

Format: two zero bytes, a type code, the number of dimensions n, then n big-endian uint32 sizes,
then the values in C order.
"""

from __future__ import annotations

import gzip
import math
import zlib
from pathlib import Path

import numpy as np

from infogan.errors import InfoGANError

IDX_TYPES = {
    0x08: np.dtype(np.uint8),
    0x09: np.dtype(np.int8),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}
GZIP_MAGIC = b"\x1f\x8b"


def parse_idx(raw: bytes, name: str = "IDX data") -> np.ndarray:
    """Decode the bytes of an IDX file (already decompressed) into an array."""
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] not in IDX_TYPES:
        raise InfoGANError(f"{name} is not an IDX file (bad magic number {raw[:4].hex() or 'empty'})")
    dtype, ndim = IDX_TYPES[raw[2]], raw[3]
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise InfoGANError(f"{name} is truncated inside its header")
    shape = tuple(int(d) for d in np.frombuffer(raw, ">u4", count=ndim, offset=4))
    expected = math.prod(shape) * dtype.itemsize  # exact: np.prod would wrap past 2**63 on a corrupt header
    if len(raw) - header != expected:
        raise InfoGANError(
            f"{name} holds {len(raw) - header} bytes of data but its header {shape} needs {expected}: "
            "the file is truncated or corrupt, download it again"
        )
    try:
        values = np.frombuffer(raw, dtype, offset=header).reshape(shape)
    except ValueError:  # a zero dimension beside others whose product numpy cannot index: (0, 3e9, 3e9)
        raise InfoGANError(
            f"{name} has a header {shape} no array can have: the file is corrupt, download it again"
        ) from None
    return values.astype(dtype.newbyteorder("="))


def read_idx(path: str | Path) -> np.ndarray:
    """Read an IDX file, decompressing it when it is gzipped (recognised by content, not name)."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise InfoGANError(f"{path} not found") from None
    if raw[:2] == GZIP_MAGIC:
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError, zlib.error) as error:
            raise InfoGANError(f"{path} is a corrupt or truncated gzip file ({error}): download it again") from None
    return parse_idx(raw, str(path))


def write_idx(path: str | Path, array: np.ndarray) -> None:
    """Write an array as IDX (gzipped when the name ends in .gz); used to make test data."""
    codes = {dtype.newbyteorder("="): code for code, dtype in IDX_TYPES.items()}
    array = np.ascontiguousarray(array)
    if array.dtype not in codes:
        raise ValueError(f"IDX cannot store {array.dtype}")
    code = codes[array.dtype]
    header = bytes([0, 0, code, array.ndim]) + np.asarray(array.shape, ">u4").tobytes()
    payload = header + array.astype(IDX_TYPES[code]).tobytes()
    path = Path(path)
    path.write_bytes(gzip.compress(payload) if path.suffix == ".gz" else payload)
