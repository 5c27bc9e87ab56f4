"""Images uploaded to the explorer for Q to read: PNG or JPEG only, bounded in bytes and pixels, decoded in memory.

An upload becomes exactly what the data loaders feed the model: the largest centred square,
resized to the run's image size, grey or RGB (infogan.data.folder.to_array). Opening reads the
header only, so that a decompression bomb is refused (413) before any pixel is decoded; the app
then decodes under the same lock as its renders, one image at a time.
"""

from __future__ import annotations

import io

import numpy as np
from PIL import Image, UnidentifiedImageError

from infogan.data.folder import DECODE_ERRORS, open_image, to_array
from infogan.errors import InfoGANError

MAX_UPLOAD_BYTES = 2 * 1024 * 1024  # a photo of a digit needs far less; also bounds every request to the server
MAX_UPLOAD_PIXELS = 4096 * 4096  # refuse decompression bombs: a small file that decodes to gigabytes
MAX_UPLOAD_SIDE = 4096  # and long thin ones: Pillow's cost grows with the rows (1 x 16M px: 0.8 s, 300 MB)
UPLOAD_FORMATS = ("PNG", "JPEG")


class UnsupportedImage(InfoGANError):
    """The upload is not a PNG or JPEG image (HTTP 415)."""


def open_upload(data: bytes) -> Image.Image:
    """The uploaded file's header, checked: UnsupportedImage (415) unless PNG or JPEG,
    infogan.data.folder.ImageTooLarge (413) past MAX_UPLOAD_PIXELS or MAX_UPLOAD_SIDE. Cheap: no pixel
    is decoded here."""
    try:
        return open_image(io.BytesIO(data), MAX_UPLOAD_PIXELS, MAX_UPLOAD_SIDE, UPLOAD_FORMATS)
    except UnidentifiedImageError:
        raise UnsupportedImage(f"the upload is not a {' or '.join(UPLOAD_FORMATS)} image") from None
    except DECODE_ERRORS as error:  # a header Pillow recognised, then found corrupt
        raise InfoGANError(f"cannot decode the uploaded image ({error})") from None


def decode_upload(image: Image.Image, size: int, channels: int, invert: bool = False) -> np.ndarray:
    """An opened upload -> (C, size, size) uint8, as the model's data loader would make it.

    `invert` turns dark strokes on light paper into MNIST's light strokes on black.
    """
    try:
        with image:
            pixels = to_array(image, size, channels, crop=None)  # (H, W, C)
    except DECODE_ERRORS as error:  # truncated or corrupt data
        raise InfoGANError(f"cannot decode the uploaded image ({error})") from None
    if invert:
        pixels = 255 - pixels
    return pixels.transpose(2, 0, 1).copy()  # (C, H, W), writable for torch
