#!/usr/bin/env python3
"""Syndicator's cold build and one-post rebuild beside Hugo and Pelican writing the same feeds, alternating runs.

    python bench/equal.py --posts 10000            # prints the rows; bench/run.py prints them with the others
    python bench/equal.py --posts 100000 --runs 1  # the large blog (no peer beside it: minutes, not seconds)

Hugo (bench/hugo-equal/) writes RSS, Atom and JSON Feed with full content, the 20 newest posts, for the
site and every category, tag and author; Pelican (bench/pelican-equal/) RSS and Atom for the same feeds;
Syndicator writes those and, on top, every RFC 5005 archive page and the gzip twins of the feeds. The
peers run from the benchmark's own environment (bench/peers.py installs them). The runs alternate (ours,
Hugo's, Pelican's, ours, ...) so that a machine whose speed drifts slows all alike; each figure is the
median of the runs, each peak RSS the largest of them (the largest process of the build: a forked copy
counts on its own). Beside the wall time, each run's CPU time (user + system, of the process and every
process it waited for): on a machine shared with other work, the CPU time holds where the wall time
does not. Bytes written count every file under feeds/ (media aside), per published post.

The one-post rebuild edits the newest post and runs ``syndicator build`` again (a new process, as a
writer's editor or a git hook would); Pelican likewise with its content cache; Hugo has no rebuild of
one post outside its server, so its figure is its cold build. Then the same with ``syndicator serve``
running on the site: the command hands the reload to it (its CPU figure is the command's alone).

The corpus is the shared generator's (shared/bench/gen_corpus.py, where the issue's figures come from)
when it is beside this checkout or a folder above it, otherwise bench/corpus.py's (and then no Pelican).
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
import time
from dataclasses import dataclass
from pathlib import Path

from peers import hugo_command
from peers import peers
from peers import pelican_command  # bench/peers.py: the script's folder is on sys.path
from peers import pelican_env
from servers import free_port
from servers import serving

HERE = Path(__file__).resolve().parent
# The shared generator, in a shared/ folder beside the checkout or beside a folder above it (a worktree's).
SHARED_GENERATOR = next(
    (g for up in HERE.parents if (g := up / "shared" / "bench" / "gen_corpus.py").is_file()), HERE / "corpus.py"
)
Row = tuple[str, str, str, str, str]


@dataclass(frozen=True)
class Measure:
    """One run, or the median of several: wall and CPU seconds, peak RSS (MB) of the largest process."""

    wall: float
    cpu: float
    rss: float

    def __str__(self) -> str:
        places = 3 if self.wall < 1 else 2  # a handed-over build's tenths of a second, to the millisecond
        return f"{self.wall:.{places}f} s (CPU {self.cpu:.{places}f} s)"


def median(runs: list[Measure]) -> Measure:
    """The median wall and CPU time of some runs, and the largest peak RSS of them."""
    walls, cpus = (statistics.median(getattr(r, f) for r in runs) for f in ("wall", "cpu"))
    return Measure(walls, cpus, max(r.rss for r in runs))


def compiled() -> None:
    """Byte-compile the installed package first, as pip does when it installs one.

    Otherwise a shell with PYTHONDONTWRITEBYTECODE set (or a read-only checkout)
    compiles every module again in every measured process.
    """
    import syndicator

    compileall.compile_dir(Path(syndicator.__file__).parent, quiet=1)


def generator() -> Path:
    return SHARED_GENERATOR


def make_corpus(posts: int, out: Path, fmt: str) -> Path:
    if not out.exists():
        command = [sys.executable, str(generator()), "--posts", str(posts), "--out", str(out), "--format", fmt]
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return out


def measured(cmd: list[str], cwd: Path, env: dict[str, str] | None = None) -> Measure:
    """Wall time, CPU time (of the command and the processes it waited for) and peak RSS of one run.

    The wall clock is perf_counter: ``os.times().elapsed`` counts in ticks of 10 ms, a twentieth of a handed-over build.
    """
    started = time.perf_counter()
    process = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(process.pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{' '.join(cmd)} failed in {cwd}")
    return Measure(time.perf_counter() - started, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024)


def bytes_under(folder: Path, skip: str = "") -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file() and not (skip and skip in p.parts))


def published_posts(site: Path) -> int:
    """The posts a fresh build published, as its ledger says (drafts and future posts are not in it)."""
    ledger = json.loads((site / ".syndicator" / "ledger.json").read_text(encoding="utf-8"))
    return len(ledger["posts"]) or 1


@dataclass
class Producers:
    """What one comparison measured: our runs and each peer's (an absent peer has none)."""

    ours: list[Measure]
    hugo: list[Measure]
    pelican: list[Measure]
    figures: dict[str, float]


def cleared(*paths: Path) -> None:
    for path in paths:
        shutil.rmtree(path, ignore_errors=True)


def equal_work(posts: int, work: Path, runs: int, *, with_peers: bool = True, pelican_runs: int = 1) -> Producers:
    """Cold builds of one corpus, ours and the peers' (when installed) writing the equal feed set, alternating.

    Pelican runs ``pelican_runs`` times at most (it takes minutes), keeping its content cache for the rebuild.
    """
    site = make_corpus(posts, work / f"equal-site{posts}", "syndicator")
    found = peers() if with_peers else None
    hugo_site = make_corpus(posts, work / f"equal-hugo{posts}", "hugo") if found and found.hugo else None
    pelican_site = None
    if found and found.pelican and generator().name == "gen_corpus.py":  # bench/corpus.py writes no Pelican layout
        pelican_site = make_corpus(posts, work / f"equal-pelican{posts}", "pelican")
    hugo_out, pelican_out = work / f"equal-hugo-out{posts}", work / f"equal-pelican-out{posts}"
    done = Producers([], [], [], {})
    for run in range(runs):
        cleared(site / "feeds", site / ".syndicator")
        done.ours.append(measured([sys.executable, "-m", "syndicator", "build"], site))
        if found and found.hugo and hugo_site:
            cleared(hugo_out)
            done.hugo.append(measured(hugo_command(found.hugo, hugo_site, hugo_out), hugo_site))
        if found and found.pelican and pelican_site and run < pelican_runs:
            cleared(pelican_out, work / "pelican-cache")
            env = pelican_env(work / "pelican-cache")
            done.pelican.append(measured(pelican_command(found.pelican, pelican_site, pelican_out), work, env))
    published = published_posts(site)
    done.figures["kb_per_post"] = bytes_under(site / "feeds", skip="media") / published / 1000
    if done.hugo:
        done.figures["hugo_kb_per_post"] = bytes_under(hugo_out) / published / 1000
    if done.pelican:
        done.figures["pelican_kb_per_post"] = bytes_under(pelican_out) / published / 1000
    return done


def newest_post(folder: Path) -> Path:
    return max(folder.rglob("*.md"), key=lambda p: (p.stat().st_mtime_ns, p.name))


def edited_builds(cmd: list[str], cwd: Path, post: Path, runs: int, env: dict[str, str] | None = None) -> Measure:
    """The median run of ``cmd`` after one more edit of one post each time (the post is restored after)."""
    text = post.read_text(encoding="utf-8")
    found = []
    try:
        for n in range(runs):
            post.write_text(text + f"\nEdited {n}.\n", encoding="utf-8")
            found.append(measured(cmd, cwd, env))
    finally:
        post.write_text(text, encoding="utf-8")
        subprocess.run(cmd, cwd=cwd, env=env, check=False, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return median(found)


def edit_work(posts: int, work: Path, runs: int, done: Producers) -> dict[str, Measure]:
    """One post edited, then a one-off build: ours (``syndicator build``), Pelican's with its cache."""
    site = work / f"equal-site{posts}"
    build = [sys.executable, "-m", "syndicator", "build"]
    subprocess.run(build, cwd=site, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # warm
    found = {"ours": edited_builds(build, site, newest_post(site / "posts"), runs)}
    with serving(site, free_port()):  # the same command while serve runs: handed over to it
        found["handed"] = edited_builds(build, site, newest_post(site / "posts"), runs)
    pelican, pelican_site = peers(install=False).pelican, work / f"equal-pelican{posts}"
    if done.pelican and pelican:
        command = pelican_command(pelican, pelican_site, work / f"equal-pelican-out{posts}")
        post = sorted((pelican_site / "content").glob("*.md"))[0]
        found["pelican"] = edited_builds(command, work, post, 1, pelican_env(work / "pelican-cache"))
    return found


def ratio(ours: Measure, theirs: Measure) -> str:
    return f"{ours.wall / theirs.wall:.2f}× (CPU {ours.cpu / theirs.cpu:.2f}×)"


def peer_rows(name: str, ours: Measure, done: Producers, target: str) -> list[Row]:
    """A measure of ours beside Hugo's and Pelican's cold builds: wall and CPU, and the ratios to each."""
    rows: list[Row] = []
    for peer, runs in (("Hugo", done.hugo), ("Pelican", done.pelican)):
        if runs:
            theirs = median(runs)
            rows.append((name if not rows else "", str(ours), f"{peer} {theirs}", ratio(ours, theirs), target))
            target = ""
    return rows or [(name, str(ours), "no peer installed", "", target)]


def equal_rows(posts: int, work: Path, runs: int, pelican_runs: int = 1) -> list[Row]:
    """The rows of the equal-work comparison (10,000 posts: the peers beside us; targets from the issue 28)."""
    done = equal_work(posts, work, runs, pelican_runs=pelican_runs)
    ours, f = median(done.ours), done.figures
    rows = peer_rows(f"cold build, {posts:,} posts: our full output, the peers' equal feeds", ours, done, "≤ 1.0× Hugo")
    rss = f"{ours.rss:.0f} MB"
    peers_rss = ", ".join(
        f"{n} {median(r).rss:.0f} MB" for n, r in (("Hugo", done.hugo), ("Pelican", done.pelican)) if r
    )
    rows.append(("  peak RSS (per process)", rss, peers_rss, "", "≤ 300 MB"))
    written = ", ".join(
        f"{n} {f[k]:.1f} KB" for n, k in (("Hugo", "hugo_kb_per_post"), ("Pelican", "pelican_kb_per_post")) if k in f
    )
    rows.append(
        ("  bytes written per post (feeds, archives, gzip twins)", f"{f['kb_per_post']:.1f} KB", written, "", "")
    )
    edits = edit_work(posts, work, runs, done)
    name = f"one post edited, then `syndicator build`, {posts:,} posts"
    mine = edits["ours"]
    if done.hugo:
        hugo = median(done.hugo)
        rows.append((name, str(mine), f"Hugo {hugo} (full)", ratio(mine, hugo), "≤ 0.05× Hugo"))
        name = ""
    if "pelican" in edits:
        rows.append((name, str(mine), f"Pelican {edits['pelican']} (cache)", ratio(mine, edits["pelican"]), ""))
    elif not done.hugo:
        rows.append((name, str(mine), "no peer installed", "", ""))
    handed, name = edits["handed"], "  the same while `serve` runs (handed over; CPU: the command's alone)"
    hugo_wall = f"{handed.wall / median(done.hugo).wall:.3f}×" if done.hugo else ""  # beside a target of 0.05 Hugo
    rows.append((name, str(handed), "Hugo (full), as above" if done.hugo else "", hugo_wall, "≤ 0.05× Hugo"))
    return rows


def big_equal_rows(work: Path) -> list[Row]:
    """100,000 posts: our cold build (one run) beside Hugo's; then the one-post rebuild."""
    done = equal_work(100_000, work, 1, pelican_runs=0)
    ours = median(done.ours)
    rows = peer_rows("cold build, 100,000 posts, our full output", ours, done, "≤ 0.8× Hugo")
    hugo_rss = f"Hugo {median(done.hugo).rss:.0f} MB" if done.hugo else ""
    rows.append(("  peak RSS (per process)", f"{ours.rss:.0f} MB", hugo_rss, "", "≤ 1,500 MB"))
    rows.append(("  bytes written per post", f"{done.figures['kb_per_post']:.1f} KB", "", "", "≤ 40 KB"))
    edits = edit_work(100_000, work, 1, done)
    rows.append(("one post edited, then `syndicator build`, 100,000 posts", str(edits["ours"]), "", "", ""))
    rows.append(("  the same while `serve` runs (handed over)", str(edits["handed"]), "", "", ""))
    return rows


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
    parser.add_argument("--pelican-runs", type=int, default=1, help="Pelican's cold builds (minutes each)")
    args = parser.parse_args()
    compiled()
    with tempfile.TemporaryDirectory(prefix="syndicator-equal-") as tmp:
        if args.posts >= 100_000:
            rows = big_equal_rows(Path(tmp))
        else:
            rows = equal_rows(args.posts, Path(tmp), args.runs, args.pelican_runs)
    print_table(rows)


if __name__ == "__main__":
    main()
