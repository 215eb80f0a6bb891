"""What the log says of a reload: what it did, or why it failed (and the system's reason, for /healthz)."""

from __future__ import annotations

import errno
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from syndicator.store.keeper import StateWriteError

if TYPE_CHECKING:
    from syndicator.service.snapshot import BuildReport

logger = logging.getLogger("syndicator.service.build")  # the builder's messages, whichever module words them

# A write the system refused for what the operator controls (space, quota, a read-only mount, modes, limits)
_REFUSED = {errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EACCES, errno.EPERM, errno.EFBIG}


def log_report(report: BuildReport, level: int) -> None:
    logger.log(
        level,
        "reloaded posts=%d categories=%d parsed=%d written=%d removed=%d problems=%d last_reload_ms=%.1f",
        report.posts,
        report.categories,
        report.parsed,
        len(report.written),
        len(report.removed),
        len(report.problems),
        report.duration_ms,
    )


def logged_failure(exc: Exception, refusals: tuple[type[Exception], ...], stop: type[Exception]) -> str:
    """Log why a reload failed, and say it: a refusal (``refusals``), a ``stop`` or a folder that takes no write in
    one line, anything else with its traceback."""
    if isinstance(exc, (*refusals, stop)):
        what = "stopped" if isinstance(exc, stop) else "refused"
        logger.log(logging.INFO if what == "stopped" else logging.ERROR, "reload %s reason=%s", what, exc)
        return str(exc)
    if system_cause(exc):
        logger.error("reload failed reason=%s", exc)
        return str(exc)
    logger.exception("reload failed")
    return f"{type(exc).__name__}: {exc}"


def system_cause(exc: BaseException) -> str:
    """The system's words for a write it refused (``No space left on device``), in ``exc`` or what caused it."""
    cause = exc.__cause__ if isinstance(exc, StateWriteError) else exc
    return cause.strerror or "" if isinstance(cause, OSError) and cause.errno in _REFUSED else ""


@contextmanager
def in_folder(folder: Path) -> Iterator[None]:
    """An OSError that names no file (a write the disk refused) names ``folder``, where the writes went."""
    try:
        yield
    except OSError as exc:
        if exc.filename is None:
            exc.filename = str(folder)
        raise
