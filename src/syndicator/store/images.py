"""Resized copies of images (Pillow, the one module that uses it): an image scaled to a given size, as bytes."""

from __future__ import annotations

import io
import warnings
from typing import BinaryIO

from PIL import ExifTags
from PIL import Image
from PIL import ImageOps
from PIL import UnidentifiedImageError

JPEG_QUALITY = 85
TURNED = (5, 6, 7, 8)  # orientations that swap width and height


class ResizeError(Exception):
    """An image could not be read or resized; the message says why."""


def resized_image(reader: BinaryIO, width: int, height: int, extension: str) -> bytes:
    """The image (turned as its EXIF orientation says) scaled to width x height, as PNG or JPEG bytes (by
    ``extension``, ``png`` or ``jpg``), without its metadata.

    A JPEG is decoded at the smallest fraction of its size that still covers the copy (Pillow's draft mode), so a
    300 MB photograph is never decoded whole; another type is decoded whole (core.thumbnails bounds its pixels) and
    made smaller before it is turned or converted. Raise ResizeError when it cannot be read or is too large for
    Pillow.
    """
    out = io.BytesIO()
    try:
        with warnings.catch_warnings():  # an image over Pillow's size warning is what is being made smaller
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(reader) as image:
                side = max(width, height)
                image.draft("RGB", (side, side))
                turned = ImageOps.exif_transpose(_reduced(image, width, height))
                copy = turned.convert("RGBA" if extension == "png" else "RGB")
                copy = copy.resize((width, height), Image.Resampling.LANCZOS)
                copy.save(out, "PNG" if extension == "png" else "JPEG", quality=JPEG_QUALITY, optimize=True)
    except (OSError, ValueError, Image.DecompressionBombError, UnidentifiedImageError) as exc:
        raise ResizeError(f"{type(exc).__name__}: {exc}") from None
    return out.getvalue()


def _reduced(image: Image.Image, width: int, height: int) -> Image.Image:
    """The image made smaller by a whole factor that keeps it at least width x height (as its EXIF orientation
    turns it), in its own mode, before any conversion (a 13,300-pixel square PNG of 21 KB, converted whole to
    RGBA, took 1.8 GB)."""
    if image.getexif().get(ExifTags.Base.Orientation) in TURNED:
        width, height = height, width
    factor = min(image.width // width, image.height // height)
    if factor < 2:
        return image
    if image.mode in ("1", "P"):  # no box average of a palette's indexes: every factor-th pixel
        return image.resize((image.width // factor, image.height // factor), Image.Resampling.NEAREST)
    try:
        return image.reduce(factor)
    except ValueError:  # a mode Pillow reduces not (16-bit grey): converted whole, within MAX_DECODED_PIXELS
        return image
