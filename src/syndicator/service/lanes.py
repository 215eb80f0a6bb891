"""Jobs per remote host on a bounded pool: one at a time per host, the hosts in turn, slow hosts kept to half.

A worker runs one job of the first host in line, then puts that host back at
the end of the line if it has more: round robin, so a host with hundreds of
jobs queued waits its turn like a host with one. A host whose last job held a
worker ``slow_after`` seconds or more is slow (for an hour, or until one of its
jobs is quicker); at most half the workers run slow hosts' jobs at once, so the
other half always turn over for everyone else.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future
from concurrent.futures import ThreadPoolExecutor

logger = logging.getLogger(__name__)

SLOW_FOR = 3600.0  # seconds a host stays slow after a slow job, unless a quicker one clears it first
Job = Callable[[], None]
Taken = tuple[str, Job]  # (key, its job) a worker runs next


class Lanes:
    """Runs jobs one at a time per key (a remote host), the keys in turn, on a bounded pool."""

    def __init__(self, workers: int, name: str = "websub", *, slow_after: float) -> None:
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix=name)
        self._workers = workers
        self._slow_workers = max(1, workers // 2)
        self._slow_after = slow_after
        self._lock = threading.Lock()
        self._jobs: dict[str, deque[Job]] = {}  # the keys queued or running, and their jobs not started
        self._line: deque[str] = deque()  # the keys with jobs queued and none running, in turn
        self._running: dict[str, bool] = {}  # the keys running a job, and whether they were slow when it started
        self._slow: dict[str, float] = {}  # key -> when its slow job ended, oldest first
        self._active = 0  # workers started and not stopped
        self._closed = False

    def submit(self, key: str, job: Job) -> None:
        with self._lock:
            if self._closed:
                return
            queue = self._jobs.setdefault(key, deque())
            queue.append(job)
            if len(queue) == 1 and key not in self._running:
                self._line.append(key)
            self._spread()

    def shutdown(self) -> None:
        """Start nothing more (the jobs running now finish on their own, within their deadline)."""
        with self._lock:
            self._closed = True
            self._pool.shutdown(wait=False, cancel_futures=True)

    def _work(self) -> None:
        taken = self._turn(None)
        while taken is not None:
            key, job = taken
            started, finished = time.monotonic(), False
            try:
                job()
                finished = True
            finally:  # a job that raised: its key goes on, this worker stops (its error goes to the log)
                taken = self._turn((key, time.monotonic() - started), go_on=finished)

    def _turn(self, done: tuple[str, float] | None, *, go_on: bool = True) -> Taken | None:
        """Put back the key of the job done (and how long it held the worker), then take this worker's next job;
        None: the worker stops, for want of a job it may run."""
        with self._lock:
            if done is not None:
                self._put_back(*done)
            taken = self._take() if go_on and not self._closed else None
            if taken is None:
                self._active -= 1
            self._spread()
        return taken

    def _take(self) -> Taken | None:
        """The first key in line that may run now, and its next job (with the lock held)."""
        slow_full = self._slow_full()
        for index, key in enumerate(self._line):
            slow = key in self._slow
            if slow and slow_full:
                continue
            del self._line[index]
            self._running[key] = slow
            return key, self._jobs[key].popleft()
        return None

    def _put_back(self, key: str, held: float) -> None:
        """A key's job is done: note whether it was slow, and queue the key at the end of the line if it has more."""
        del self._running[key]
        now = time.monotonic()
        self._slow.pop(key, None)
        if held >= self._slow_after:
            self._slow[key] = now  # the dict keeps the order of the marks: the oldest go first
        while self._slow and now - next(iter(self._slow.values())) >= SLOW_FOR:
            del self._slow[next(iter(self._slow))]
        if self._jobs[key]:
            self._line.append(key)
        else:
            del self._jobs[key]

    def _spread(self) -> None:
        """Start one more worker when one is free and a key in line may run (it starts the next the same way)."""
        if self._closed or self._active >= self._workers:
            return
        slow_full = self._slow_full()
        if any(not (slow_full and key in self._slow) for key in self._line):
            self._active += 1
            self._pool.submit(self._work).add_done_callback(_log_failure)

    def _slow_full(self) -> bool:
        """Whether the workers slow hosts may have are all running (with the lock held)."""
        return sum(self._running.values()) >= self._slow_workers


def _log_failure(future: Future[None]) -> None:
    error = None if future.cancelled() else future.exception()
    if error is not None:
        logger.error("websub job failed error=%r", error, exc_info=error)
