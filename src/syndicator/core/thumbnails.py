"""Images over the limits (``max_image_bytes``, ``max_image_pixels``): the warning, and the resized copy feeds name.

A featured or body image larger than max_image_bytes, or wider or taller than
max_image_pixels, is a warning; feeds' ``media:thumbnail`` then names a copy
resized to fit a square of THUMBNAIL_BOX pixels (or max_image_pixels, when
smaller), never the original. The copy is named by the source's digest and the
box, under output_dir's ``media/_resized/`` (no asset can be there: names
starting with ``_`` under posts_dir are never published), so it is made once.
Pure: the files' facts come in. No I/O.
"""

from __future__ import annotations

from dataclasses import dataclass

from syndicator.config import Settings
from syndicator.core.assets import media_prefix
from syndicator.model import AssetFacts

RESIZED_DIR = "_resized"  # under output_dir's media/
THUMBNAIL_BOX = 1200  # px: the resized copy's longer side at most (Flipboard, Google News and MSN take 720-1200)
DIGEST_CHARACTERS = 24  # of the source's sha256, in the copy's name
MAX_RESIZABLE_PIXELS = 2 * 89_478_485  # Pillow refuses to open a larger image (twice its MAX_IMAGE_PIXELS)
# Only a JPEG is decoded at a fraction of its size (Pillow's draft mode); another type is decoded whole, up to four
# bytes a pixel (64 MB here, where a 21 KB PNG can be 177 million pixels).
MAX_DECODED_PIXELS = 16_000_000
# The image types a copy can be made of, and the copy's extension (JPEG for photographs, PNG where there may be
# transparency or few colours).
RESIZABLE = {
    "image/jpeg": "jpg",
    "image/png": "png",
    "image/gif": "png",
    "image/webp": "png",
    "image/bmp": "jpg",
    "image/tiff": "jpg",
}


@dataclass(frozen=True, slots=True)
class ImageLimits:
    """The limits an image is held to, and where resized copies are published."""

    max_bytes: int
    max_pixels: int
    media_url: str  # the URL assets' URLs start with (media_prefix)

    @classmethod
    def of(cls, settings: Settings) -> ImageLimits:
        return cls(settings.max_image_bytes, settings.max_image_pixels, media_prefix(settings))

    @property
    def box(self) -> int:
        """The side of the square a resized copy fits in."""
        return min(THUMBNAIL_BOX, self.max_pixels)

    def over(self, facts: AssetFacts) -> bool:
        """Whether a file is an image over the limits."""
        too_wide = max(facts.width, facts.height) > self.max_pixels
        return facts.media_type.startswith("image/") and (facts.size > self.max_bytes or too_wide)

    def resized(self, facts: AssetFacts) -> tuple[str, int, int] | None:
        """The resized copy of an image over the limits: its path under output_dir's media/, width and height (None:
        it is of a type no copy is made of, or its size is unknown)."""
        extension = RESIZABLE.get(facts.media_type)
        most = MAX_RESIZABLE_PIXELS if facts.media_type == "image/jpeg" else MAX_DECODED_PIXELS
        if extension is None or not facts.digest or not 0 < facts.width * facts.height <= most:
            return None
        width, height = fitted(facts.width, facts.height, self.box)
        return f"{RESIZED_DIR}/{facts.digest[:DIGEST_CHARACTERS]}-{self.box}.{extension}", width, height

    def warning(self, path: str, facts: AssetFacts) -> str:
        """What a post is told of an image over the limits that it names."""
        over = []
        if facts.size > self.max_bytes:
            over.append(f"{_mib(facts.size)} (max_image_bytes: {_mib(self.max_bytes)})")
        if max(facts.width, facts.height) > self.max_pixels:
            over.append(f"{facts.width}x{facts.height} px (max_image_pixels: {self.max_pixels})")
        copy = "feeds name a resized copy as its thumbnail" if self.resized(facts) else "feeds give it no thumbnail"
        return f"image {path} is {' and '.join(over)}: {copy}"


def fitted(width: int, height: int, box: int) -> tuple[int, int]:
    """An image's size scaled to fit a square of ``box`` pixels (aspect kept, never enlarged, at least 1x1)."""
    scale = min(1.0, box / max(width, height))
    return max(1, round(width * scale)), max(1, round(height * scale))


def _mib(size: int) -> str:
    return f"{size / (1024 * 1024):.1f} MiB"
