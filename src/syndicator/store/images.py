"""Resized copies of images (Pillow, the one module that uses it): an image scaled to a given size, as bytes."""

from __future__ import annotations

import io
import warnings
from typing import BinaryIO

from PIL import Image
from PIL import ImageOps
from PIL import UnidentifiedImageError

JPEG_QUALITY = 85


class ResizeError(Exception):
    """An image could not be read or resized; the message says why."""


def resized_image(reader: BinaryIO, width: int, height: int, extension: str) -> bytes:
    """The image (turned as its EXIF orientation says) scaled to width x height, as PNG or JPEG bytes (by
    ``extension``, ``png`` or ``jpg``), without its metadata.

    A JPEG is decoded at the smallest fraction of its size that still covers the copy (Pillow's draft mode), so a
    300 MB photograph is never decoded whole. Raise ResizeError when it cannot be read or is too large for Pillow.
    """
    out = io.BytesIO()
    try:
        with warnings.catch_warnings():  # an image over Pillow's size warning is what is being made smaller
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(reader) as image:
                side = max(width, height)
                image.draft("RGB", (side, side))
                turned = ImageOps.exif_transpose(image)
                copy = turned.convert("RGBA" if extension == "png" else "RGB")
                copy = copy.resize((width, height), Image.Resampling.LANCZOS)
                copy.save(out, "PNG" if extension == "png" else "JPEG", quality=JPEG_QUALITY, optimize=True)
    except (OSError, ValueError, Image.DecompressionBombError, UnidentifiedImageError) as exc:
        raise ResizeError(f"{type(exc).__name__}: {exc}") from None
    return out.getvalue()
