"""Real media files for tests: PNGs written with zlib and struct (no code of ours), the committed JPEGs and MP3."""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

from support.paths import DATA

MEDIA = DATA / "media"
PHONE_JPEG = MEDIA / "phone.jpg"  # 64x48 stored, EXIF orientation 6: shows as 48x64
CAMELS_JPEG = MEDIA / "camels.jpg"  # 1024x683
EPISODE_MP3 = MEDIA / "episode.mp3"  # one second, MPEG-2.5 Layer III


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png(width: int, height: int, rgb: tuple[int, int, int] = (200, 120, 40)) -> bytes:
    """A valid 8-bit RGB PNG of one colour (PNG spec: signature, IHDR, one IDAT of filtered rows, IEND)."""
    row = b"\x00" + bytes(rgb) * width  # filter type 0 (None), then the pixels
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)  # 8 bits, truecolour, deflate, no interlace
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", header)
        + _chunk(b"IDAT", zlib.compress(row * height, 9))
        + _chunk(b"IEND", b"")
    )


def write_png(path: Path, width: int, height: int, rgb: tuple[int, int, int] = (200, 120, 40)) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(png(width, height, rgb))
    return path


def copy(source: Path, target: Path) -> Path:
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(source.read_bytes())
    return target


def wordpress_uploads(uploads: Path) -> Path:
    """The old site's wp-content/uploads for data/wordpress/wp6-blocks.xml: real pictures and audio, stub video/PDF."""
    copy(CAMELS_JPEG, uploads / "2023" / "03" / "photo.jpg")
    copy(CAMELS_JPEG, uploads / "2023" / "03" / "photo-1024x683.jpg")
    copy(PHONE_JPEG, uploads / "2023" / "03" / "market.jpg")
    copy(EPISODE_MP3, uploads / "2023" / "04" / "episode-1.mp3")
    copy(PHONE_JPEG, uploads / "2023" / "04" / "poster.jpg")
    (uploads / "2023" / "04" / "clip.mp4").write_bytes(b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom")
    (uploads / "2023" / "04" / "notes.pdf").write_bytes(b"%PDF-1.4\n%%EOF\n")
    return uploads


SECRET = "root:x:0:0:SECRET-PASSWORD-LINE"  # noqa: S105 - the bytes a leak would show, no credential


def write_links_out(site: Path) -> Path:
    """A site whose post links three files that lead out of posts/ (a secret, the config, /proc) and one inside."""
    posts = site / "posts"
    (posts / "images").mkdir(parents=True)
    (site / "secret.txt").write_text(SECRET)
    (site / "syndicator.toml").write_text('stats_token = "SECRET-STATS-TOKEN"\n')
    (posts / "list.txt").symlink_to(site / "secret.txt")
    (posts / "guide.txt").symlink_to("../syndicator.toml")
    (posts / "rules.txt").symlink_to("/proc/self/environ")
    write_png(posts / "images" / "real.png", 20, 10)
    (posts / "alias.png").symlink_to("images/real.png")
    (posts / "post.md").write_text(
        "---\ntitle: Links\ndate: 2025-06-01\n---\n"
        "See [the list](list.txt),\n[the guide](guide.txt) and\n[the rules](rules.txt).\n\n![a](alias.png)\n"
    )
    return posts
