"""Run a function in a forked copy of this process, to use a second core for pure Python work.

The copy shares everything the caller built (no pickling going in); only the
return value is pickled back. Only when this process has no other thread (a
fork copies just the calling thread, and a lock another one held would stay
locked in the copy); otherwise, or when the copy fails, the function runs here.
"""

from __future__ import annotations

import logging
import multiprocessing
import signal
import threading
from collections.abc import Callable
from multiprocessing.connection import Connection
from typing import Generic
from typing import TypeVar

logger = logging.getLogger(__name__)

T = TypeVar("T")


def can_fork() -> bool:
    return threading.active_count() == 1 and "fork" in multiprocessing.get_all_start_methods()


class Forked(Generic[T]):
    """``fn()`` started in a forked copy; ``result()`` waits for its value (or computes it here)."""

    def __init__(self, fn: Callable[[], T]) -> None:
        self.fn = fn
        self.process: multiprocessing.process.BaseProcess | None = None
        if not can_fork():
            return
        context = multiprocessing.get_context("fork")
        self.reader, writer = context.Pipe(duplex=False)
        self.process = context.Process(target=self._run, args=(writer,), daemon=True)
        self.process.start()
        writer.close()
        logger.debug("forked pid=%s", self.process.pid)

    def _run(self, writer: Connection) -> None:  # in the copy
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle: it ends this copy
        signal.signal(signal.SIGTERM, signal.SIG_DFL)  # ended quietly, whatever the parent does on SIGTERM
        writer.send(self.fn())
        writer.close()

    def result(self) -> T:
        if self.process is not None:
            try:
                value: T = self.reader.recv()
            except (EOFError, OSError):
                logger.warning("forked work failed; doing it here")
            except BaseException:  # interrupted: the copy's work is of no use any more
                self.process.kill()
                raise
            else:
                return value
            finally:
                self.process.join()
                self.reader.close()
        return self.fn()
