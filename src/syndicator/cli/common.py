"""What every command shares: settings from the config file, logging, the lock, the progress bar, stopping.

Only the ``cli`` package adds log handlers and talks to the terminal.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Callable
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC
from datetime import datetime
from pathlib import Path
from typing import Any
from typing import ClassVar

import click

from syndicator.config import ConfigError
from syndicator.config import Settings
from syndicator.config import load_settings

# The renderers (feedgen, lxml, cmark, Flask...) are imported by the commands that use them,
# so that a build which finds nothing changed starts and ends in a blink.

logger = logging.getLogger(__name__)

DEFAULT_CONFIG = "syndicator.toml"
SHOWN = 20  # lines of one kind in a summary, before "... and N more"


def now() -> datetime:
    return datetime.now(UTC)


def setup_logging(level: int = logging.INFO) -> None:
    """Log to stderr, once, for the whole package."""
    root = logging.getLogger()
    if not root.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        root.addHandler(handler)
    root.setLevel(level)
    logging.getLogger("apscheduler").setLevel(logging.WARNING)


def _settings(config: str | None, defaults: dict[str, Any] | None = None) -> Settings:
    path = Path(config) if config is not None else Path(DEFAULT_CONFIG)
    try:
        return load_settings(path, os.environ, required=config is not None, defaults=defaults)
    except ConfigError as exc:
        raise click.ClickException(f"configuration: {exc}") from exc


def _posts_dir(settings: Settings) -> None:
    """A missing posts_dir stops serve and build at once, before anything is written (a typo, an unmounted share)."""
    if not settings.posts_dir.is_dir():
        raise click.ClickException(
            f"posts_dir {settings.posts_dir} is not a folder: nothing was built or changed "
            "(check posts_dir in the config, or mount the share)"
        )


@contextmanager
def _locked(settings: Settings, adopt: bool = False, wait: float = 0.0) -> Iterator[bool]:
    """One builder per state_dir and output_dir, and output_dir only this state_dir's: hold the locks while the
    block runs (waiting up to ``wait`` seconds for them), or refuse in one line; yields whether output_dir was
    another state_dir's (``--adopt``)."""
    from syndicator.store.lock import BuilderLock
    from syndicator.store.lock import LockedError

    lock = BuilderLock(settings)
    try:
        lock.acquire(wait)
    except LockedError as exc:
        lock.release()
        raise Busy(str(exc)) from exc
    except OSError as exc:
        lock.release()
        raise click.ClickException(f"cannot lock {exc.filename or settings.state_dir}: {exc.strerror}") from exc
    try:
        adopted = _claim(settings, adopt)
    except click.ClickException:
        lock.release()
        raise
    except OSError as exc:  # the claim's record in output_dir
        lock.release()
        raise click.ClickException(f"cannot write output_dir {settings.output_dir}: {exc.strerror}") from exc
    if adopted:
        logger.warning("output_dir adopted output_dir=%s state_dir=%s", settings.output_dir, settings.state_dir)
    try:
        yield adopted
    finally:
        lock.release()


def _claim(settings: Settings, adopt: bool) -> bool:
    """output_dir claimed for state_dir, once the lock is held (imported only then: a build handed over needs
    none of it); ClickException when another state_dir's."""
    from syndicator.store.claim import ClaimedError
    from syndicator.store.claim import claim

    try:
        return claim(settings, adopt=adopt)
    except ClaimedError as exc:
        raise click.ClickException(str(exc)) from exc


class Busy(click.ClickException):
    """Another builder (serve, build --watch, a build) holds state_dir or output_dir."""


class Stopped(BaseException):
    """Ctrl-C or SIGTERM during a build: raised at the build's next step, never in the middle of one."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


_stop: list[int] = []  # the signal a build was asked to stop by (a signal handler can only set a flag safely)


def _ask_to_stop(signum: int, frame: object) -> None:
    if _stop:  # asked twice: stop now
        raise KeyboardInterrupt
    _stop.append(signum)


def _stopping(bars: ProgressBar | None) -> Callable[[str, int, int], None]:
    """The build's progress callback: draws the bar, and stops the build between two steps when asked to."""

    def progress(stage: str, done: int, total: int) -> None:
        if _stop:
            raise Stopped(_stop[0])
        if bars is not None:
            bars(stage, done, total)

    return progress


class ProgressBar:
    """One bar for a whole build, reading posts then rendering and writing feeds (on a terminal, never in a log).

    Log lines that come while it is drawn wait until it closes, so that none is
    printed across it.
    """

    MIN_TOTAL = 500  # a smaller build finishes before a bar is worth drawing
    STAGES: ClassVar[dict[str, tuple[int, int]]] = {"reading posts": (0, 50), "writing feeds": (50, 100)}

    def __init__(self) -> None:
        self._bar: Any = None
        self._shown = 0
        self._held: list[tuple[logging.Handler, logging.Handler]] = []

    def __call__(self, stage: str, done: int, total: int) -> None:
        if self._bar is None:
            if total < self.MIN_TOTAL:
                return
            self._hold_logs()
            self._bar = click.progressbar(length=100, label="building", file=sys.stderr)
            self._bar.__enter__()
        start, end = self.STAGES.get(stage, (0, 100))
        position = max(self._shown, start + (end - start) * done // max(total, 1))
        self._bar.label = stage
        self._bar.update(position - self._shown)
        self._shown = position

    def _hold_logs(self) -> None:
        import logging.handlers  # not before: a command handed over shows no bar

        root = logging.getLogger()
        for handler in list(root.handlers):
            memory = logging.handlers.MemoryHandler(100_000, flushLevel=logging.CRITICAL + 1, target=handler)
            root.removeHandler(handler)
            root.addHandler(memory)
            self._held.append((memory, handler))

    def close(self) -> None:
        if self._bar is not None:
            self._bar.__exit__(None, None, None)
            self._bar = None
        root = logging.getLogger()
        for memory, handler in self._held:
            root.removeHandler(memory)
            root.addHandler(handler)
            memory.close()  # flushes what it held
        self._held = []


adopt_option = click.option(
    "--adopt",
    is_flag=True,
    help="Take over an output_dir built from another state_dir (what it published is read back first).",
)
config_option = click.option(
    "--config",
    "config",
    type=click.Path(dir_okay=False),
    default=None,
    help=f"Config file (default: ./{DEFAULT_CONFIG} when it exists).",
)
