"""Where an audit's tasks run: the small interface the audit's one pool is used through.

``archiver.audit.collection.audit`` submits its tasks (a batch of bags to audit, a batch of
files to hash) to one ``TaskExecutor`` and merges the results itself. Three implement it:
``LocalPool`` (this machine's worker processes, the default), ``LocalThreads`` (threads of
this process, for hashing large files) and ``archiver.audit.dask_backend.DaskExecutor``
(a Dask cluster, ``--scheduler``).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import Executor, Future
from typing import Any, Protocol, TypeVar

T = TypeVar("T")


class TaskExecutor(Protocol):
    """Runs audit tasks somewhere: ``submit`` returns a ``concurrent.futures.Future``.

    ``workers`` is how many tasks it runs at once (the audit keeps twice that in flight).
    A future that cannot complete because the executor itself failed (a cluster gone) is
    set to an ``ArchiverError``; a task that raises propagates its own exception.
    """

    @property
    def workers(self) -> int: ...

    def submit(self, fn: Callable[..., T], /, *args: Any) -> Future[T]: ...

    def close(self) -> None: ...


class LocalPool:
    """This machine's worker processes (a ``ProcessPoolExecutor``)."""

    def __init__(self, pool: Executor, workers: int) -> None:
        self._pool = pool
        self._workers = workers

    @property
    def workers(self) -> int:
        """Workers at once."""
        return self._workers

    def submit(self, fn: Callable[..., T], /, *args: Any) -> Future[T]:
        """Run ``fn(*args)`` in a worker."""
        return self._pool.submit(fn, *args)

    def close(self) -> None:
        """Stop the workers; tasks not started are cancelled."""
        self._pool.shutdown(wait=True, cancel_futures=True)


class LocalThreads(LocalPool):
    """Threads of this process, for tasks that hash large files.

    hashlib and the reads release the GIL for every block of a large file, so threads
    hash on every core like worker processes do, without their start-up (importing
    multiprocessing, forking, pickling; about 0.1 s of a one-bag audit). Tasks that run
    Python per file (many small files, planning bags) go to worker processes instead.
    ``stop`` is set on ``close``; the tasks pass it to ``hash_jobs``, so a thread
    interrupted in a 100 GB file gives up at its next block instead of finishing it.
    """

    def __init__(self, workers: int) -> None:
        from concurrent.futures import ThreadPoolExecutor

        pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="archiver-hash")
        super().__init__(pool, workers)
        self.stop = threading.Event()

    def close(self) -> None:
        """Stop the threads: tasks not started are cancelled, running ones stop at their
        next block (``stop``)."""
        self.stop.set()
        super().close()
