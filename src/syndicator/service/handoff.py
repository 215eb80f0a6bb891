"""``syndicator build`` while a builder runs (``serve``, ``build --watch``): the running one reloads, the command
prints what that reload did.

A running builder holds state_dir's lock, so a second one would have to refuse;
it also holds every post in memory, so the change a build asks for is published
in the time one reload looking at every post file takes (about 0.2 s at 10,000
posts), where a new process would load the whole site first. The running builder listens on
``state_dir/builder.sock``; a build that finds the lock held asks there, and
refuses as before when nobody answers. The socket is made for its owner only
(mode 0600, in state_dir) and each side checks the other's user id, so no other
local user can ask for a reload or pose as the builder.
"""

from __future__ import annotations

import contextlib
import functools
import json
import logging
import os
import socket
import struct
import threading
import time
from collections.abc import Callable
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from syndicator.store.lock import file_identity

if TYPE_CHECKING:  # the builder's side only: a build asking imports none of the builder (nor the model, unless
    # the report has problems to show)
    from syndicator.problem import LoadProblem
    from syndicator.service.build import ReloadError
    from syndicator.service.snapshot import BuildReport

logger = logging.getLogger(__name__)

SOCKET_FILE = "builder.sock"
REQUEST = b"reload\n"
MAX_ANSWER = 64 * 1024 * 1024  # bytes of an answer read at most (every problem of a very broken site fits)
WAIT_STEP = 0.2  # seconds between looks at ``stopping`` while the running builder reloads
NOTICE_AFTER = 2.0  # seconds of waiting after which the build says what it waits for


@dataclass(frozen=True, slots=True)
class Answer:
    """What the running builder's reload did (``error``: why it failed; the last good feeds stay published)."""

    pid: int
    feeds: int = 0
    posts: int = 0
    categories: int = 0
    written: int = 0
    removed: int = 0
    duration_ms: float = 0.0
    problems: tuple[LoadProblem, ...] = ()
    failed: bool = False  # whether any post could not be published (the report's own ``failed``)
    error: str | None = None


class Listener:
    """The running builder's side: each connection asks for one reload, answered with its report (one thread).

    ``follow(report)``, when given, runs once the answer is sent: what follows a
    reload (WebSub, the followers) need not hold the build back.
    """

    def __init__(
        self,
        state_dir: Path,
        reload: Callable[[], BuildReport | ReloadError],
        follow: Callable[[BuildReport | ReloadError], None] | None = None,
    ) -> None:
        self.state_dir = state_dir
        self.reload = reload
        self.follow = follow
        self._server: socket.socket | None = None
        self._thread: threading.Thread | None = None
        self._bound: tuple[int, int] | None = None  # the socket file listened on (device, inode)

    def start(self) -> None:
        """Listen (replacing the socket file a builder that died left); without it, builds refuse as before."""
        server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            with _in(self.state_dir) as path:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(path)  # ours to replace: this process holds state_dir's lock
                server.bind(path)
                os.chmod(path, 0o600)
                server.listen(8)
                self._bound = file_identity(path)
        except OSError as exc:
            server.close()
            logger.warning("builds cannot be handed over socket=%s reason=%s", self.state_dir / SOCKET_FILE, exc)
            return
        self._server = server
        self._thread = threading.Thread(target=self._serve, args=(server,), name="builder-handoff", daemon=True)
        self._thread.start()

    def keep(self) -> None:
        """Listen again when the socket file is gone or another (state_dir removed under the running builder, whose
        locks its reload took again): a build hands over again, where it would find nobody and refuse."""
        server = self._server
        if server is None:
            return
        with _in(self.state_dir) as path:
            if file_identity(path) == self._bound:
                return
        self._server = None
        with contextlib.suppress(OSError):
            server.shutdown(socket.SHUT_RDWR)
        server.close()  # its thread's accept fails: that thread ends
        self.start()

    def stop(self) -> None:
        server, self._server = self._server, None
        if server is not None:
            with contextlib.suppress(OSError):
                server.shutdown(socket.SHUT_RDWR)
            server.close()
            with contextlib.suppress(OSError), _in(self.state_dir) as path:
                os.unlink(path)

    def _serve(self, server: socket.socket) -> None:
        while self._server is server:  # stopped, or listening again on another socket (``keep``): this thread ends
            try:
                connection, _ = server.accept()
            except OSError:
                return  # stopped
            with connection:
                try:
                    self._answer(connection)
                except OSError as exc:  # the build went away: its reload was done all the same
                    logger.info("build handed over left before its answer reason=%s", exc)

    def _answer(self, connection: socket.socket) -> None:
        if not _same_user(connection):
            return
        connection.settimeout(5)
        if connection.recv(len(REQUEST)) != REQUEST:
            return
        connection.settimeout(None)
        from syndicator.service.build import ReloadError

        try:
            report = self.reload()
        except Exception as exc:  # not the builder's reload (it catches its own): the build hears of it
            logger.exception("reload handed over failed")
            report = ReloadError(f"{type(exc).__name__}: {exc}", exc)
        try:
            connection.sendall(json.dumps(_document(report), ensure_ascii=False).encode("utf-8") + b"\n")
        finally:
            self._follow(report)  # also when the build went away: the reload was done all the same

    def _follow(self, report: BuildReport | ReloadError) -> None:
        if self.follow is None:
            return
        try:
            self.follow(report)
        except Exception:  # a listener's failure is logged; the next build is answered as ever
            logger.exception("what follows a reload handed over failed")


def ask(
    state_dir: Path,
    stopping: Callable[[], bool] = lambda: False,
    waiting: Callable[[int], None] = lambda pid: None,
    notice_after: float = NOTICE_AFTER,
) -> Answer | None:
    """Have the builder running with ``state_dir`` reload, and say what it did; None when none answers.

    Waits as long as the reload takes (a server's first load may take minutes), unless ``stopping()``;
    ``waiting(pid)`` is told once when that is more than ``notice_after`` seconds.
    """
    client = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    with client:
        try:
            with _in(state_dir) as path:
                client.connect(path)
        except OSError:
            return None  # no builder listens: it stopped, or it is a one-off build
        pid = _same_user(client, _owner(state_dir))
        if not pid:
            return None
        try:
            client.sendall(REQUEST)
        except OSError:
            return None  # the builder hung up: not ours to ask
        answer = _read(client, stopping, functools.partial(waiting, pid), notice_after)
    try:
        return None if answer is None else _answer(pid, json.loads(answer))
    except ValueError:  # not an answer (cut short at MAX_ANSWER, or not a builder of ours)
        return None


def _read(
    client: socket.socket, stopping: Callable[[], bool], waiting: Callable[[], None], notice_after: float
) -> bytes | None:
    """The answer's line, as it comes, however long the reload takes; None when stopped or hung up on."""
    client.settimeout(WAIT_STEP)
    answer = bytearray()
    notice: float | None = time.monotonic() + notice_after
    while not answer.endswith(b"\n") and len(answer) < MAX_ANSWER:
        if stopping():
            return None
        if notice is not None and time.monotonic() >= notice:
            waiting()
            notice = None
        try:
            chunk = client.recv(1 << 16)
        except TimeoutError:
            continue
        except OSError:
            return None
        if not chunk:
            return None  # the builder stopped during the reload
        answer += chunk
    return bytes(answer)


def _document(report: BuildReport | ReloadError) -> dict[str, object]:
    from syndicator.service.build import ReloadError

    if isinstance(report, ReloadError):
        return {"error": report.message}
    return {
        "feeds": len(report.feeds),
        "posts": report.posts,
        "categories": report.categories,
        "written": len(report.written),
        "removed": len(report.removed),
        "duration_ms": report.duration_ms,
        "problems": [[p.path, p.line, p.message, p.fatal, p.private] for p in report.problems],
        "failed": report.failed,
    }


def _answer(pid: int, document: object) -> Answer:
    """The running builder's answer, read back (ValueError when it is not one)."""
    if not isinstance(document, dict):
        raise ValueError("not an answer")
    if isinstance(error := document.get("error"), str):
        return Answer(pid, error=error)
    feeds, posts, categories, written, removed = (
        _count(document.get(key)) for key in ("feeds", "posts", "categories", "written", "removed")
    )
    rows = document.get("problems") or ()
    problems = _problems(rows) if rows else ()
    duration = document.get("duration_ms")
    if not isinstance(duration, int | float):
        raise ValueError("no duration")
    failed = document.get("failed")
    if not isinstance(failed, bool):
        raise ValueError("no failed flag")
    return Answer(pid, feeds, posts, categories, written, removed, float(duration), problems, failed)


def _problems(rows: object) -> tuple[LoadProblem, ...]:
    """The report's problems, read back (ValueError when one is not a problem)."""
    from syndicator.problem import LoadProblem

    if not isinstance(rows, list):
        raise ValueError("not a list of problems")
    problems = []
    for found in rows:
        match found:
            case [str(path), int(line), str(message), bool(fatal), bool(private)]:
                problems.append(LoadProblem(path, line, message, fatal, private))
            case _:
                raise ValueError("not a problem")
    return tuple(problems)


def _count(value: object) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise ValueError("not a count")
    return value


def _same_user(connection: socket.socket, owner: int | None = None) -> int:
    """The pid at the other end when it runs as this user, as root or as ``owner`` (state_dir's: the service's
    user, whom root asks when an operator types ``sudo syndicator build``), else 0."""
    option = getattr(socket, "SO_PEERCRED", None)
    if option is None:  # not Linux: who is at the other end cannot be told, so nothing is handed over
        return 0
    pid, uid, _gid = struct.unpack("3i", connection.getsockopt(socket.SOL_SOCKET, option, 12))
    return pid if uid in (os.getuid(), 0, owner) else 0


def _owner(state_dir: Path) -> int | None:
    """The user state_dir belongs to (only they, or root, could have made the socket in it)."""
    try:
        return state_dir.stat().st_uid
    except OSError:
        return None


@contextlib.contextmanager
def _in(state_dir: Path) -> Iterator[str]:
    """The socket's path, short enough for any state_dir: through the folder's descriptor where /proc has one."""
    try:
        folder = os.open(state_dir, os.O_RDONLY | os.O_DIRECTORY)
    except OSError:
        yield str(state_dir / SOCKET_FILE)
        return
    try:
        through = f"/proc/self/fd/{folder}"
        yield f"{through}/{SOCKET_FILE}" if os.path.isdir(through) else str(state_dir / SOCKET_FILE)
    finally:
        os.close(folder)
