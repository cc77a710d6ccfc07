"""How archiver's worker processes start, and how they stop (build and audit pools).

Start method (``worker_context``): workers are forked when this process runs no other
thread (cheap: they inherit what it imported); otherwise they come from a fork server
preloaded with the given modules, since forking a process that runs threads (a progress
bar's refresh thread, an executor's manager thread) copies locks those threads may hold.

Lifetime (``init_worker``, the first thing a worker runs): a worker never outlives the
run that started it.

- On Linux, ``prctl(PR_SET_PDEATHSIG, SIGKILL)``: the kernel kills the worker when its
  parent ends. A worker from a fork server has the server as its parent, so a thread
  also watches the run's own process (``run_pid``): on a pidfd where the system has
  ``os.pidfd_open``, else by polling once a second. When that process is gone, the
  worker kills itself at once (what ``kill -9`` of the run leaves behind is cleaned by
  the next run: see ``archiver.storage.fileio``).
- SIGINT is ignored (Ctrl-C reaches the whole process group; the parent decides how to
  stop its workers); SIGTERM ends the worker, by default at once, or with ``SystemExit``
  (``exit_on_sigterm``) so its ``finally`` blocks run and it removes what it was writing.
  A library may turn that ``SystemExit`` into an error of its own (lxml does, when the
  signal lands in one of its resolver callbacks while a schema compiles): the
  ``Termination`` that ``init_worker`` returns knows SIGTERM came, and
  ``Termination.quiet`` turns any error after it back into a quiet exit, never a traceback.
"""

from __future__ import annotations

import contextlib
import os
import select
import signal
import sys
import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from types import FrameType

from archiver.storage.libc import libc

TYPE_CHECKING = False
if TYPE_CHECKING:  # multiprocessing is imported when a pool is made
    import multiprocessing.context

PR_SET_PDEATHSIG = 1  # linux/prctl.h
POLL_SECONDS = 1.0  # how often a worker looks for its run without a pidfd


def worker_context(preload: Sequence[str] = ()) -> multiprocessing.context.BaseContext:
    """The multiprocessing context for a new pool: fork if this process runs no other
    thread, else a fork server preloaded with ``preload``, else the platform default."""
    import multiprocessing

    methods = multiprocessing.get_all_start_methods()
    if "fork" in methods and threading.active_count() == 1:
        return multiprocessing.get_context("fork")
    if "forkserver" in methods:
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload(list(preload))
        return context
    return multiprocessing.get_context()


def process_alive(pid: int) -> bool:
    """True if a process with this id exists (it may belong to another user) and has not
    ended: a zombie (ended, not yet reaped, as under an init that never reaps) is gone."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            state = fh.read().rpartition(b")")[2].split()[:1]
    except OSError:
        return True  # no /proc (not Linux): it exists
    return state != [b"Z"]


def _set_parent_death_signal() -> None:
    """Ask Linux to SIGKILL this process when its parent ends (nothing elsewhere)."""
    c = libc()
    if c is not None:
        c.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)


def _die() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


def _watch(run_pid: int) -> None:
    """Block until ``run_pid`` has ended, then kill this process."""
    pidfd_open = getattr(os, "pidfd_open", None)
    if pidfd_open is not None:
        try:
            fd = pidfd_open(run_pid)
        except ProcessLookupError:
            _die()
            return
        except OSError:
            fd = -1  # no pidfd here (old kernel, seccomp): poll instead
        if fd >= 0:
            select.select([fd], [], [])  # readable once the process has exited
            _die()
            return
    while process_alive(run_pid):
        time.sleep(POLL_SECONDS)
    _die()


class Termination:
    """Whether SIGTERM has reached this worker (set by the handler ``init_worker`` installs)."""

    def __init__(self) -> None:
        self.requested = False

    def exit_on_signal(self, signum: int, frame: FrameType | None) -> None:
        """The SIGTERM handler: remember it, and unwind with ``SystemExit``."""
        self.requested = True
        raise SystemExit(128 + signum)

    def checkpoint(self) -> None:
        """Unwind now if SIGTERM has come: between units of work, in case a library
        swallowed the ``SystemExit`` the handler raised."""
        if self.requested:
            raise SystemExit(128 + signal.SIGTERM)

    @contextlib.contextmanager
    def quiet(self) -> Iterator[None]:
        """Turn an error raised after SIGTERM came (a library's rewording of our
        ``SystemExit``) into the quiet exit the signal asked for."""
        try:
            yield
        except Exception:
            if self.requested:
                raise SystemExit(128 + signal.SIGTERM) from None
            raise


def init_worker(run_pid: int, exit_on_sigterm: bool = False) -> Termination:
    """Make this worker die with the run ``run_pid`` and set its signal handling."""
    termination = Termination()
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, termination.exit_on_signal if exit_on_sigterm else signal.SIG_DFL)
    _set_parent_death_signal()
    if not process_alive(run_pid):  # the run ended before the death signal was armed
        _die()
    watcher = threading.Thread(target=_watch, args=(run_pid,), name="run-watch", daemon=True)
    watcher.start()
    return termination


def child_pids() -> set[int]:
    """The process ids of this process's live multiprocessing children (none, without
    importing it, if multiprocessing was never imported: nothing can have started one)."""
    multiprocessing = sys.modules.get("multiprocessing")
    if multiprocessing is None:
        return set()
    return {p.pid for p in multiprocessing.active_children() if p.pid is not None}


def terminate_children(pids: Iterable[int]) -> None:
    """Send SIGTERM to these children of this process and reap them."""
    wanted = set(pids)
    import multiprocessing

    children = [p for p in multiprocessing.active_children() if p.pid in wanted]
    for child in children:
        with contextlib.suppress(ProcessLookupError):
            child.terminate()
    for child in children:
        child.join()
