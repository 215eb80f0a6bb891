"""Work in a forked copy: its value comes back; a copy that dies, or a process with threads, computes here."""

from __future__ import annotations

import json
import os
import subprocess
import sys

SCRIPT = """
import json, os, threading
from syndicator.incremental.forked import Forked

parent = os.getpid()
shared = list(range(1000))  # built before the fork: the copy sees it without pickling
copy = Forked(lambda: (os.getpid(), sum(shared)))
mine = (os.getpid(), sum(shared))
value = copy.result()

dying = Forked(lambda: os.getpid() if os.getpid() == parent else os._exit(3))
fallback = dying.result()

threading.Thread(target=threading.Event().wait, args=(5,), daemon=True).start()
with_thread = Forked(lambda: os.getpid())
print(json.dumps({
    "parent": parent, "copy": value, "mine": mine, "fallback": fallback,
    "with_thread": [with_thread.process is None, with_thread.result()],
}))
"""


def test_forked_work_comes_back_and_falls_back_here() -> None:
    out = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, check=True)
    result = json.loads(out.stdout)
    parent = result["parent"]
    assert result["copy"][0] != parent and result["copy"][1] == result["mine"][1] == sum(range(1000))
    assert result["fallback"] == parent  # the copy exited without an answer: computed here
    assert "forked work failed" in out.stderr
    assert result["with_thread"] == [True, parent]  # another thread runs: no fork at all


SPAWNED = """
import json, logging, operator, os, threading, time
from syndicator.incremental import forked
from syndicator.incremental.forked import Spawned

logging.basicConfig(format="parent-format %(message)s")
threading.Thread(target=threading.Event().wait, args=(5,), daemon=True).start()  # a server's threads: no fork
value = Spawned(os.getpid).result()
failing = Spawned(operator.truediv, 1, 0)
try:
    failing.result()
    fallback = "no error"
except ZeroDivisionError:
    fallback = "raised here too"
sleeping = Spawned(time.sleep, 30)
sleeping.stop()
forked._CHILD = ["/nonexistent/python"]  # an interpreter that cannot be started: the work is done here
here = Spawned(os.getpid).result()
print(json.dumps({
    "parent": os.getpid(), "value": value, "fallback": fallback, "stopped": sleeping.process.returncode, "here": here,
}))
"""


def test_spawned_work_comes_back_from_a_new_interpreter_and_falls_back_here() -> None:
    """A process with threads runs a module's function in a new interpreter; a failure there is computed here
    (and fails here the same way); work given up is ended at once; without an interpreter to start, it runs here."""
    out = subprocess.run([sys.executable, "-c", SPAWNED], capture_output=True, text=True, check=True, timeout=60)
    result = json.loads(out.stdout)
    assert isinstance(result["value"], int) and result["value"] != result["parent"]
    assert result["fallback"] == "raised here too"
    assert "parent-format spawned work failed; doing it here" in out.stderr
    assert result["stopped"] is not None and result["stopped"] < 0  # killed, not left to sleep
    assert result["here"] == result["parent"]
    assert "parent-format cannot start an interpreter; doing the work here" in out.stderr


WORK = """
import os


class Refused:
    def __reduce__(self):
        return (refuse, ())


def refuse():
    raise ValueError("this value cannot be made again")


def noisy():
    os.write(1, b"written to stdout below Python\\n")
    return os.getpid()


def unreadable():
    return (os.getpid(), Refused())
"""

NOISY = """
import json, logging, os, threading
import work
from syndicator.incremental.forked import Spawned

logging.basicConfig()
threading.Thread(target=threading.Event().wait, args=(5,), daemon=True).start()
noisy = Spawned(work.noisy).result()
pid, refused = Spawned(work.unreadable).result()
print(json.dumps({"parent": os.getpid(), "noisy": noisy, "unreadable": [pid, type(refused).__name__]}))
"""


def test_spawned_value_survives_what_the_work_writes_and_a_value_not_read_back_is_computed_here(tmp_path) -> None:
    """Work writing to file descriptor 1 itself (as a C library may) leaves the value whole: it is still the new
    interpreter's; a value that cannot be read back (cut short, or refused when made again) is computed here."""
    (tmp_path / "work.py").write_text(WORK)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path), os.environ.get("PYTHONPATH", "")])}
    out = subprocess.run([sys.executable, "-c", NOISY], capture_output=True, text=True, timeout=60, env=env)
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout)
    assert isinstance(result["noisy"], int) and result["noisy"] != result["parent"]
    assert "written to stdout below Python" in out.stderr
    assert result["unreadable"] == [result["parent"], "Refused"]
    assert "spawned work's value could not be read; doing it here" in out.stderr
