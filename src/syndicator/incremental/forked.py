"""Run a function in a forked copy of this process, to use a second core for pure Python work.

The copy shares everything the caller built (no pickling going in); only the
return value is pickled back. Only when this process has no other thread (a
fork copies just the calling thread, and a lock another one held would stay
locked in the copy); otherwise, or when the copy fails, the function runs here.
A process with threads (a server) can have a module's function run in a new
interpreter instead (``Spawned``): its arguments are pickled going in, and the
interpreter's start (a third of a second) is paid first.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import os
import pickle
import signal
import subprocess
import sys
import threading
from collections.abc import Callable
from multiprocessing.connection import Connection
from typing import IO
from typing import Any
from typing import Generic
from typing import TypeVar
from typing import cast

logger = logging.getLogger(__name__)

T = TypeVar("T")
_PR_SET_PDEATHSIG = 1  # prctl(2)


def can_fork() -> bool:
    return threading.active_count() == 1 and "fork" in multiprocessing.get_all_start_methods()


def end_with(parent: int) -> None:
    """In a forked process: be killed when ``parent``, the process that forked it, dies (Linux's
    ``PR_SET_PDEATHSIG``), and end now when it already has. Called from the thread that lives as long as it.

    A fork inherits the builder's locks: a copy left running after ``kill -9``
    of its build wrote files of a build nobody would record, then held the
    locks for ever, blocked on the pipe to its dead parent (every later build
    refused, naming the dead one); serve's worker kept serving and building
    with no server above it.
    """
    if os.getpid() == parent:  # not a fork after all (a server running its app in its own process)
        return
    import ctypes  # here, in the fork: a build that forks none never loads it

    with contextlib.suppress(OSError, AttributeError):  # not Linux: the broken pipe ends the copy instead
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent:
        os._exit(1)


class Forked(Generic[T]):
    """``fn()`` started in a forked copy; ``result()`` waits for its value (or computes it here)."""

    def __init__(self, fn: Callable[[], T]) -> None:
        self.fn = fn
        self.process: multiprocessing.process.BaseProcess | None = None
        if not can_fork():
            return
        context = multiprocessing.get_context("fork")
        self.reader, writer = context.Pipe(duplex=False)
        self.process = context.Process(target=self._run, args=(writer, os.getpid()), daemon=True)
        self.process.start()
        writer.close()
        logger.debug("forked pid=%s", self.process.pid)

    def _run(self, writer: Connection, parent: int) -> None:  # in the copy
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle: it ends this copy
        signal.signal(signal.SIGTERM, signal.SIG_DFL)  # ended quietly, whatever the parent does on SIGTERM
        self.reader.close()  # the parent's end: with it open here, a send to a dead parent would wait for ever
        end_with(parent)
        writer.send(self.fn())
        writer.close()

    def stop(self) -> None:
        """Give the work up (the caller stopped): the copy is ended, its value never read."""
        if self.process is not None:
            self.process.kill()
            self.process.join()
            self.reader.close()
            self.process = None

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


class Spawned(Generic[T]):
    """``fn(*args)`` started in a new interpreter (``fn`` a module's function, the arguments picklable);
    ``result()`` waits for its value (or computes it here, when the interpreter could not give it).

    The interpreter is this one's executable reading the work on its stdin and
    writing the value on its stdout; unlike multiprocessing's spawn, it never
    imports the caller's main script.
    """

    def __init__(self, fn: Callable[..., T], *args: Any) -> None:
        self.fn, self.args = fn, args
        root = logging.getLogger()  # the new interpreter logs as this process does (to stderr, in its format)
        formats = [h.formatter for h in root.handlers if isinstance(h, logging.StreamHandler) and _sent(h.formatter)]
        work = pickle.dumps(((root.level, formats), fn, args), protocol=pickle.HIGHEST_PROTOCOL)
        self.process: subprocess.Popen[bytes] | None = None
        try:
            self.process = subprocess.Popen(_CHILD, stdin=subprocess.PIPE, stdout=subprocess.PIPE)  # noqa: S603 - ours
        except OSError as exc:  # no executable to start (an embedded interpreter), no process left to make
            logger.warning("cannot start an interpreter; doing the work here reason=%s", exc)
            return
        with contextlib.suppress(BrokenPipeError), cast(IO[bytes], self.process.stdin) as work_in:
            work_in.write(work)
        logger.debug("spawned pid=%s", self.process.pid)

    def result(self) -> T:
        process = self.process
        if process is None:
            return self.fn(*self.args)
        output = cast(IO[bytes], process.stdout)
        try:
            data = output.read()
            code = process.wait()
        except BaseException:  # interrupted: the interpreter's work is of no use any more
            self.stop()
            raise
        finally:
            output.close()
        if code != 0 or not data:
            logger.warning("spawned work failed; doing it here")
        else:
            try:
                value: T = pickle.loads(data)  # noqa: S301 - what our own child wrote
            except Exception as exc:  # noqa: BLE001 - cut short, or not to be made here: whatever loads raises
                logger.warning("spawned work's value could not be read; doing it here reason=%r", exc)
            else:
                return value
        return self.fn(*self.args)

    def stop(self) -> None:
        """Give the work up (the caller stopped): the interpreter is ended, its value never read."""
        if self.process is not None:
            self.process.kill()
            self.process.wait()
            cast(IO[bytes], self.process.stdout).close()


def _sent(formatter: logging.Formatter | None) -> bool:
    """Whether a handler's format can go to the new interpreter (a plain Formatter can; one tied to a terminal not)."""
    try:
        pickle.dumps(formatter)
    except Exception:  # noqa: BLE001 - whatever pickling raises: that format is not sent
        return False
    return formatter is not None


_CHILD = [sys.executable, "-c", "from syndicator.incremental.forked import run_spawned; run_spawned()"]


def run_spawned() -> None:
    """The new interpreter's side of ``Spawned``: the work from stdin, its value to what was stdout."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle: it ends this interpreter
    answer = os.fdopen(os.dup(1), "wb")  # the value leaves on a descriptor of its own ...
    os.dup2(2, 1)  # ... and whatever the work writes to stdout, from Python or from C, goes to stderr
    sys.stdout = sys.stderr
    work = sys.stdin.buffer.read()  # all of it before fn's module loads: the parent writing it waits till then
    (level, formats), fn, args = pickle.loads(work)  # noqa: S301 - what our own parent wrote
    root = logging.getLogger()
    root.setLevel(level)
    for formatter in formats:
        handler = logging.StreamHandler()
        handler.setFormatter(formatter)
        root.addHandler(handler)
    with answer:
        pickle.dump(fn(*args), answer, protocol=pickle.HIGHEST_PROTOCOL)
