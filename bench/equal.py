#!/usr/bin/env python3
"""Syndicator's cold build beside Hugo writing the same feeds, on one corpus, alternating runs.

    python bench/equal.py --posts 10000            # prints the rows; bench/run.py prints them with the others
    python bench/equal.py --posts 100000 --runs 1  # the large blog (no Hugo beside it: minutes, not seconds)

Hugo (bench/hugo-equal/) writes RSS, Atom and JSON Feed with full content, the 20 newest posts, for the
site and every category, tag and author; Syndicator writes those and, on top, every RFC 5005 archive page
and the gzip twins of the feeds. The runs alternate (ours, Hugo's, ours, ...) so that a machine whose
speed drifts slows both alike; each figure is the median of the runs, each peak RSS the largest of them
(the largest process of the build: a forked copy counts on its own). Bytes written count every file under
feeds/ (media aside), per published post.

The corpus is the shared generator's (../shared/bench/gen_corpus.py, where the issue's figures come from)
when it is beside this checkout, otherwise bench/corpus.py's.
"""

from __future__ import annotations

import argparse
import compileall
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
HUGO_EQUAL = HERE / "hugo-equal"
SHARED_GENERATOR = HERE.parent.parent / "shared" / "bench" / "gen_corpus.py"
Row = tuple[str, str, str, str, str]


def compiled() -> None:
    """Byte-compile the installed package first, as pip does when it installs one.

    Otherwise a shell with PYTHONDONTWRITEBYTECODE set (or a read-only checkout)
    compiles every module again in every measured process.
    """
    import syndicator

    compileall.compile_dir(Path(syndicator.__file__).parent, quiet=1)


def generator() -> Path:
    return SHARED_GENERATOR if SHARED_GENERATOR.is_file() else HERE / "corpus.py"


def make_corpus(posts: int, out: Path, fmt: str) -> Path:
    if not out.exists():
        command = [sys.executable, str(generator()), "--posts", str(posts), "--out", str(out), "--format", fmt]
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return out


def measured(cmd: list[str], cwd: Path) -> tuple[float, float]:
    """Wall time (s) and peak RSS (MB, of the largest process of the command) of one run."""
    started = os.times().elapsed
    process = subprocess.Popen(cmd, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(process.pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{' '.join(cmd)} failed in {cwd}")
    return os.times().elapsed - started, usage.ru_maxrss / 1024


def bytes_under(folder: Path, skip: str = "") -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file() and not (skip and skip in p.parts))


def published_posts(site: Path) -> int:
    """The posts a fresh build published, as its ledger says (drafts and future posts are not in it)."""
    ledger = json.loads((site / ".syndicator" / "ledger.json").read_text(encoding="utf-8"))
    return len(ledger["posts"]) or 1


def hugo_command(hugo: str, site: Path, out: Path) -> list[str]:
    config, layouts = HUGO_EQUAL / "hugo.toml", HUGO_EQUAL / "layouts"
    places = ["--source", str(site), "--config", str(config), "--layoutDir", str(layouts), "--destination", str(out)]
    return [hugo, *places]


def equal_work(posts: int, work: Path, runs: int, *, with_hugo: bool = True) -> dict[str, float]:
    """Cold builds of one corpus, ours and (when installed) Hugo's equal feed set, alternating."""
    site = make_corpus(posts, work / f"equal-site{posts}", "syndicator")
    hugo = shutil.which("hugo") if with_hugo else None
    hugo_site = make_corpus(posts, work / f"equal-hugo{posts}", "hugo") if hugo else None
    hugo_out = work / f"equal-hugo-out{posts}"
    ours: list[tuple[float, float]] = []
    theirs: list[tuple[float, float]] = []
    for _ in range(runs):
        for path in (site / "feeds", site / ".syndicator"):
            shutil.rmtree(path, ignore_errors=True)
        ours.append(measured([sys.executable, "-m", "syndicator", "build"], site))
        if hugo and hugo_site:
            shutil.rmtree(hugo_out, ignore_errors=True)
            theirs.append(measured([*hugo_command(hugo, hugo_site, hugo_out), "--quiet"], hugo_site))
    published = published_posts(site)
    figures = {
        "posts": published,
        "wall": statistics.median(r[0] for r in ours),
        "rss": max(r[1] for r in ours),
        "kb_per_post": bytes_under(site / "feeds", skip="media") / published / 1000,
    }
    if theirs:
        figures |= {
            "hugo_wall": statistics.median(r[0] for r in theirs),
            "hugo_rss": max(r[1] for r in theirs),
            "hugo_kb_per_post": bytes_under(hugo_out) / published / 1000,
        }
    return figures


def equal_rows(posts: int, work: Path, runs: int) -> list[Row]:
    """The rows of the equal-work comparison (10,000 posts: Hugo beside us; targets from the issue)."""
    f = equal_work(posts, work, runs)
    name = f"cold build, {posts:,} posts: our full output, Hugo's equal feeds"
    if "hugo_wall" not in f:
        return [(name, f"{f['wall']:.2f} s ({f['rss']:.0f} MB)", "Hugo missing", "", "")]
    return [
        (name, f"{f['wall']:.2f} s", f"Hugo {f['hugo_wall']:.2f} s", f"{f['wall'] / f['hugo_wall']:.2f}×", "≤ 0.7×"),
        ("  peak RSS", f"{f['rss']:.0f} MB", f"Hugo {f['hugo_rss']:.0f} MB", "", "≤ 300 MB"),
        (
            "  bytes written per post (feeds, archives, gzip twins)",
            f"{f['kb_per_post']:.1f} KB",
            f"Hugo {f['hugo_kb_per_post']:.1f} KB",
            "",
            "≤ 40 KB",
        ),
    ]


def big_equal_rows(work: Path) -> list[Row]:
    """100,000 posts: our cold build alone (one run)."""
    f = equal_work(100_000, work, 1, with_hugo=False)
    return [
        ("cold build, 100,000 posts, our full output", f"{f['wall']:.1f} s", "", "", "≤ 60 s"),
        ("  peak RSS", f"{f['rss']:.0f} MB", "", "", "≤ 1,500 MB"),
        ("  bytes written per post", f"{f['kb_per_post']:.1f} KB", "", "", "≤ 40 KB"),
    ]


def print_table(rows: list[Row]) -> None:
    """The rows as a Markdown table."""
    print("| measure | Syndicator | peer | ratio | target |")
    print("|---|---|---|---|---|")
    for row in rows:
        print("| " + " | ".join(row) + " |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--posts", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    compiled()
    with tempfile.TemporaryDirectory(prefix="syndicator-equal-") as tmp:
        rows = big_equal_rows(Path(tmp)) if args.posts >= 100_000 else equal_rows(args.posts, Path(tmp), args.runs)
    print_table(rows)


if __name__ == "__main__":
    main()
