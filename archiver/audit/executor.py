"""Where an audit's tasks run: the small interface the audit's one pool is used through.

``archiver.audit.collection.audit`` submits its tasks (a batch of bags to audit, a batch of
files to hash) to one ``TaskExecutor`` and merges the results itself. Two implement it:
``LocalPool`` (this machine's worker processes, the default) and
``archiver.audit.dask_backend.DaskExecutor`` (a Dask cluster, ``--scheduler``).
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

if TYPE_CHECKING:  # the pool itself is made, and multiprocessing imported, only when used
    from concurrent.futures import ProcessPoolExecutor

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

    def __init__(self, pool: ProcessPoolExecutor, workers: int) -> None:
        self._pool = pool
        self._workers = workers

    @property
    def workers(self) -> int:
        """Worker processes."""
        return self._workers

    def submit(self, fn: Callable[..., T], /, *args: Any) -> Future[T]:
        """Run ``fn(*args)`` in a worker process."""
        return self._pool.submit(fn, *args)

    def close(self) -> None:
        """Stop the workers; tasks not started are cancelled."""
        self._pool.shutdown(wait=True, cancel_futures=True)
