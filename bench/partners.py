#!/usr/bin/env python3
"""What the partner feeds cost: builds and reloads with and without posts for partners, and rendering on demand.

    python bench/corpus.py --posts 10000 --out /tmp/p10k
    python bench/partners.py /tmp/p10k            # makes /tmp/p10k-partners beside it (1 % of posts for partners)

Each variant runs in a fresh process (cold: no state_dir, no feeds/), as `serve` does (every feed held for
serving): cold load, peak RSS, the median reload after editing one post, and then the partner feeds rendered
when first asked for (and asked again), plus what rendering all of them at once would cost.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
from pathlib import Path

CHILD = r"""
import json, os, resource, statistics, sys, time
from datetime import UTC, datetime
os.chdir(sys.argv[1])
from syndicator.config import load_settings
from syndicator.core.urls import OPML
from syndicator.service.build import Builder
settings = load_settings(None, {})
builder = Builder(settings)
started = time.perf_counter()
builder.reload(datetime.now(UTC))
cold = time.perf_counter() - started
snapshot = builder.snapshot
catalog = snapshot.catalog
post = next(p for p in catalog.posts[:50] if p.categories)
path = settings.posts_dir / post.source
text = path.read_text()
times = []
for i in range(5):
    path.write_text(text + f"\nEdited {i}.\n")
    times.append(builder.reload(datetime.now(UTC), changed={post.source}).duration_ms)
path.write_text(text)
builder.reload(datetime.now(UTC), changed={post.source})
result = {"posts": len(catalog.posts), "cold load s": round(cold, 2), "edit reload ms": statistics.median(times),
          "peak RSS MB": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)}
edition = getattr(builder.snapshot, "partners", None)
if edition is None:  # the code before partner feeds
    print(json.dumps(result))
    sys.exit()
biggest = max(catalog.categories.values(), key=lambda c: len(c.posts)).slug
wanted = ["all.atom", f"category/{biggest}.atom", f"category/{biggest}.rss", f"category/{biggest}.json",
          "archive/1.atom", OPML]
first, again = {}, {}
for name in wanted:
    t = time.perf_counter(); found = edition.file(name); first[name] = (time.perf_counter() - t) * 1000
    assert found is not None, name
    t = time.perf_counter(); edition.file(name); again[name] = (time.perf_counter() - t) * 1000
rss_before_all = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
partner_feeds = edition._feeds  # the PartnerFeeds that made the edition
specs, by_path = edition.specs(partner_feeds._paging)
t = time.perf_counter()
size = 0
for spec in specs:
    size += len(partner_feeds._render(spec, edition.catalog)[spec.paths[0]])
every = time.perf_counter() - t
print(json.dumps({**result,
    "partner posts": len(edition.catalog.posts) - len(catalog.posts),
    "second catalog": edition.catalog is not builder.snapshot.catalog,
    "peak RSS MB (after the lazy renders)": round(rss_before_all),
    "first request ms": {k: round(v, 1) for k, v in first.items()},
    "again ms": {k: round(v, 3) for k, v in again.items()},
    "all partner documents at once s": round(every, 1), "their bytes MB (one format each)": round(size / 1e6),
    "partner documents": len(by_path),
}))
"""


def with_partner_posts(site: Path, every: int) -> Path:
    """A copy of the corpus where every `every`-th post (by file name) is for partners only."""
    out = site.with_name(site.name + "-partners")
    shutil.rmtree(out, ignore_errors=True)
    shutil.copytree(site, out, ignore=shutil.ignore_patterns(".syndicator", "feeds"))
    for n, post in enumerate(sorted((out / "posts").rglob("*.md"))):
        if n % every == 0:
            post.write_text(re.sub(r"\A---\n", "---\nvisibility: partners\n", post.read_text()), encoding="utf-8")
    return out


def measure(site: Path, src: Path | None = None) -> dict[str, object]:
    """One cold run in a fresh process (``src``: the package to run instead of the installed one)."""
    shutil.rmtree(site / ".syndicator", ignore_errors=True)
    shutil.rmtree(site / "feeds", ignore_errors=True)
    env = {**os.environ, "PYTHONPATH": str(src)} if src is not None else None
    out = subprocess.run([sys.executable, "-c", CHILD, str(site)], capture_output=True, text=True, env=env)
    if out.returncode != 0:
        raise SystemExit(out.stderr)
    result: dict[str, object] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("site", type=Path, help="a corpus made by bench/corpus.py")
    parser.add_argument("--every", type=int, default=100, help="one post in this many is for partners")
    parser.add_argument("--runs", type=int, default=3, help="cold runs per variant (the median is shown)")
    parser.add_argument("--base", type=Path, help="src/ of the code before partner feeds, measured alike")
    args = parser.parse_args()
    variants: list[tuple[str, Path, Path | None]] = [
        ("public only", args.site, None),
        ("with posts for partners", with_partner_posts(args.site, args.every), None),
    ]
    if args.base is not None:
        variants.insert(0, ("before partner feeds", args.site, args.base))
    results: dict[str, list[dict[str, object]]] = {name: [] for name, _site, _src in variants}
    for _ in range(args.runs):  # interleaved, so that a busy moment of the machine hits every variant alike
        for name, site, src in variants:
            results[name].append(measure(site, src))
    for name, runs in results.items():
        shown = dict(runs[-1])
        for key in ("cold load s", "edit reload ms", "peak RSS MB"):
            shown[key] = statistics.median(float(str(run[key])) for run in runs)
        print(name, json.dumps(shown, indent=1))


if __name__ == "__main__":
    main()
