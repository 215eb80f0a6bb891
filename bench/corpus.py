#!/usr/bin/env python3
"""Write a deterministic synthetic blog for benchmarks, in Syndicator's layout or Hugo's.

    python bench/corpus.py --posts 10000 --out /tmp/corpus            # posts/ + syndicator.toml
    python bench/corpus.py --posts 10000 --out /tmp/hugo --format hugo
    python bench/corpus.py --posts 10000 --out /tmp/media --images     # and a picture on a fifth of the posts

The same seed and size give the same posts in both layouts: titles, dates,
categories (Zipf-distributed: the n-th most used has weight 1/n), tags on a fifth of them, bodies
of realistic length with links, emphasis, lists and tables, some non-ASCII text,
and every excerpt-marker form the SPEC allows. With ``--images``, a fifth of the posts
show a real PNG (its own, in an ``images/`` folder beside the posts; every other one
named as the featured ``image``). Standard library only.
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import struct
import zlib
from datetime import UTC
from datetime import datetime
from datetime import timedelta
from itertools import accumulate
from pathlib import Path

SYLLABLES = [
    "ka",
    "ri",
    "to",
    "mu",
    "sa",
    "ne",
    "lo",
    "vi",
    "da",
    "pe",
    "zu",
    "ho",
    "ga",
    "te",
    "mi",
    "no",
    "ru",
    "be",
    "si",
    "ya",
]
PLACES = ["Dushanbe", "Khujand", "Kulob", "Bokhtar", "Zürich", "São Paulo", "Kraków", "Istanbul", "Almaty", "Osh"]
MARKERS = ["Continue reading", "continue reading →", "Continue reading »", "Continue reading...", "Continue reading…"]
START = datetime(2011, 1, 1, tzinfo=UTC)
SPAN_DAYS = 15 * 365


def word(rng: random.Random) -> str:
    return "".join(rng.choice(SYLLABLES) for _ in range(rng.randint(1, 3)))


def sentence(rng: random.Random, words: int) -> str:
    text = " ".join(word(rng) for _ in range(words))
    return text[0].upper() + text[1:] + "."


def paragraph(rng: random.Random, words: int) -> str:
    parts, left = [], words
    while left > 0:
        n = min(left, rng.randint(8, 22))
        parts.append(sentence(rng, n))
        left -= n
    text = " ".join(parts)
    if rng.random() < 0.3:
        text += f" See [the report](https://example.org/{word(rng)}/) or [our notes](/notes/{word(rng)}/)."
    if rng.random() < 0.2:
        text += f" *{word(rng)}* in **{rng.choice(PLACES)}**."
    return text


def category_names(rng: random.Random, count: int) -> list[str]:
    names: set[str] = set()
    while len(names) < count:
        base = f"{word(rng).title()} {rng.choice(['relations', 'affairs', 'economy', 'security', 'energy'])}"
        if rng.random() < 0.1:
            base = f"{rng.choice(PLACES)} & {word(rng).title()}"
        names.add(base)
    return sorted(names)


def make_posts(count: int, seed: int, categories: int) -> list[dict[str, object]]:
    rng = random.Random(seed)
    names = category_names(rng, categories)
    tag_names = sorted({word(rng) for _ in range(150)})[:100]  # a few tags, on a fifth of the posts
    weights = list(accumulate(1 / (rank + 1) for rank in range(len(names))))
    posts = []
    for i in range(count):
        picked = {names[i % len(names)]} if i < len(names) else set()  # every category gets a post
        while len(picked) < rng.randint(1, 6):
            picked.add(rng.choices(names, cum_weights=weights)[0])
        date = START + timedelta(seconds=rng.randrange(SPAN_DAYS * 86400))
        title = sentence(rng, rng.randint(3, 9))[:-1]
        if rng.random() < 0.15:
            title += f" in {rng.choice(PLACES)}"
        if rng.random() < 0.1:
            title = title.replace(" ", " & ", 1)
        excerpt = [paragraph(rng, rng.randint(40, 90)) for _ in range(rng.randint(1, 2))]
        rest = [paragraph(rng, rng.randint(60, 180)) for _ in range(rng.randint(3, 8))]
        if rng.random() < 0.2:
            rest.insert(1, "\n".join(f"- {sentence(rng, 5)}" for _ in range(4)))
        if rng.random() < 0.1:
            rest.insert(2, "| year | value |\n|---|---|\n" + "\n".join(f"| {2011 + k} | {k * 7} |" for k in range(4)))
        roll = rng.random()
        marker = rng.choice(MARKERS) if roll < 0.8 else ("<!--more-->" if roll < 0.9 else None)
        posts.append(
            {
                "slug": f"{date:%Y-%m-%d}-post-{i}",
                "title": title,
                "date": date,
                "categories": sorted(picked),
                "tags": sorted({rng.choice(tag_names) for _ in range(rng.randint(1, 2))}) if rng.random() < 0.2 else [],
                "draft": rng.random() < 0.01,
                "excerpt": excerpt,
                "rest": rest,
                "marker": marker,
            }
        )
    return posts


def body(post: dict[str, object], marker: str | None) -> str:
    parts = list(post["excerpt"])  # type: ignore[call-overload]
    if marker is not None:
        parts.append(marker)
    return "\n\n".join(parts + list(post["rest"])) + "\n"  # type: ignore[call-overload]


def png(width: int, height: int, rgb: tuple[int, int, int]) -> bytes:
    """A real one-colour PNG (signature, IHDR, IDAT, IEND): a few hundred bytes whatever its size."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    rows = (b"\x00" + bytes(rgb) * width) * height
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows, 9)) + chunk(b"IEND", b"")


def write_syndicator(posts: list[dict[str, object]], out: Path, images: bool = False) -> None:
    for i, post in enumerate(posts):
        date: datetime = post["date"]  # type: ignore[assignment]
        folder = out / "posts" / f"{date:%Y}"
        folder.mkdir(parents=True, exist_ok=True)
        front = {
            "title": post["title"],
            "date": date.isoformat(),
            "categories": post["categories"],
            "tags": post["tags"],
        }
        text = body(post, post["marker"])  # type: ignore[arg-type]
        if images and i % 5 == 0:
            name = f"images/{post['slug']}.png"
            (folder / "images").mkdir(exist_ok=True)
            (folder / name).write_bytes(png(800 + (i % 9) * 100, 450 + (i % 7) * 50, (i % 256, 90, 160)))
            if i % 10 == 0:
                front["image"] = {"src": name, "alt": f"Picture of {post['title']}"}
            text = f"![{post['title']}]({name})\n\n" + text
        if post["draft"]:
            front["draft"] = True
        head = "---\n" + "\n".join(f"{k}: {json.dumps(v, ensure_ascii=False)}" for k, v in front.items())
        (folder / f"{post['slug']}.md").write_text(head + "\n---\n\n" + text, encoding="utf-8")


def write_hugo(posts: list[dict[str, object]], out: Path) -> None:
    folder = out / "content" / "posts"
    folder.mkdir(parents=True, exist_ok=True)
    (out / "hugo.toml").write_text(
        'baseURL = "http://127.0.0.1:8000/"\ntitle = "Benchmark"\nlanguageCode = "en"\n'
        'disableKinds = ["sitemap", "robotsTXT", "404"]\n'
        '[taxonomies]\ncategory = "categories"\ntag = "tags"\n[services.rss]\nlimit = 20\n'
    )
    for post in posts:
        date: datetime = post["date"]  # type: ignore[assignment]
        front = {
            "title": post["title"],
            "date": date.isoformat(),
            "categories": post["categories"],
            "tags": post["tags"],
            "draft": post["draft"],
        }
        text = "---\n" + "\n".join(f"{k}: {json.dumps(v, ensure_ascii=False)}" for k, v in front.items())
        marker = "<!--more-->" if post["marker"] is not None else None
        (folder / f"{post['slug']}.md").write_text(text + "\n---\n\n" + body(post, marker), encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--posts", type=int, default=10000)
    parser.add_argument("--categories", type=int, default=None, help="default: max(20, posts // 50)")
    parser.add_argument("--seed", type=int, default=2011)
    parser.add_argument("--format", choices=["syndicator", "hugo"], default="syndicator")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--images", action="store_true", help="a picture on a fifth of the posts (Syndicator layout)")
    args = parser.parse_args()
    if args.out.exists():
        shutil.rmtree(args.out)
    args.out.mkdir(parents=True)
    posts = make_posts(args.posts, args.seed, args.categories or max(20, args.posts // 50))
    if args.format == "hugo":
        write_hugo(posts, args.out)
    else:
        write_syndicator(posts, args.out, images=args.images)


if __name__ == "__main__":
    main()
