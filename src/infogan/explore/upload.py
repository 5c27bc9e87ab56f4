"""Images uploaded to the explorer for Q to read: PNG or JPEG only, bounded in bytes and pixels, decoded in memory.

An upload becomes exactly what the data loaders feed the model: the largest centred square,
resized to the run's image size, grey or RGB (infogan.data.folder.load_image).
"""

from __future__ import annotations

import io

import numpy as np
from PIL import Image, UnidentifiedImageError

from infogan.data.folder import load_image
from infogan.errors import InfoGANError

MAX_UPLOAD_BYTES = 2 * 1024 * 1024  # a photo of a digit needs far less; also bounds every request to the server
MAX_UPLOAD_PIXELS = 4096 * 4096  # refuse decompression bombs: a small file that decodes to gigabytes
UPLOAD_FORMATS = ("PNG", "JPEG")


class UnsupportedImage(InfoGANError):
    """The upload is not a PNG or JPEG image (HTTP 415)."""


class ImageTooLarge(InfoGANError):
    """The upload decodes to more than MAX_UPLOAD_PIXELS pixels (HTTP 413)."""


def read_upload(data: bytes, size: int, channels: int, invert: bool = False) -> np.ndarray:
    """The uploaded file's bytes -> (C, size, size) uint8, as the model's data loader would make it.

    `invert` turns dark strokes on light paper into MNIST's light strokes on black.
    """
    buffer = io.BytesIO(data)
    try:
        with Image.open(buffer, formats=UPLOAD_FORMATS) as image:  # reads the header only
            width, height = image.size
        if width * height > MAX_UPLOAD_PIXELS:
            raise ImageTooLarge(f"the image is {width}x{height} pixels: send one of at most {MAX_UPLOAD_PIXELS:,}")
        buffer.seek(0)
        pixels = load_image(buffer, size, channels, crop=None)  # (H, W, C)
    except UnidentifiedImageError:
        raise UnsupportedImage(f"the upload is not a {' or '.join(UPLOAD_FORMATS)} image") from None
    except Image.DecompressionBombError:
        raise ImageTooLarge(f"the image has far more than {MAX_UPLOAD_PIXELS:,} pixels") from None
    except (OSError, ValueError, SyntaxError) as error:  # truncated or corrupt data
        raise InfoGANError(f"cannot decode the uploaded image ({error})") from None
    if invert:
        pixels = 255 - pixels
    return pixels.transpose(2, 0, 1).copy()  # (C, H, W), writable for torch
