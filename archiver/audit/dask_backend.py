"""Run an audit's tasks on a Dask cluster (``archiver audit --scheduler``).

The tasks are the local pool's (``archiver.audit.collection``: batches of small bags
audited whole, large files hashed one per task), submitted through ``DaskExecutor`` to a
``distributed`` scheduler, which spreads them over its workers and reruns on another
worker the tasks of a worker that dies. Results come back to this process, which merges
them into one ``AuditReport`` and alone writes the ledger. Workers must see the bags at the
same paths as this process: ``check_workers`` asks each one before any task is sent.

``distributed`` is an optional dependency (``pip install 'archiver[dask]'``), imported only
here and only when a scheduler is asked for.
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future
from typing import Any, TypeVar

from archiver import __version__
from archiver.model.errors import ClusterError

T = TypeVar("T")

LOCAL = "local"  # --scheduler local: a LocalCluster of worker processes on this machine
CONNECT_TIMEOUT = 20.0  # seconds to reach the scheduler and see a worker


def _import_distributed() -> Any:
    try:
        import distributed
    except ImportError:
        raise ClusterError(
            "--scheduler needs Dask's distributed package: pip install 'archiver[dask]'"
        ) from None
    return distributed


def visible_roots(roots: Sequence[str]) -> tuple[str, list[str]]:
    """Run on each worker: its archiver version and the roots it cannot see."""
    return __version__, [r for r in roots if not os.path.exists(r)]


def check_workers(client: Any, roots: Sequence[str]) -> None:
    """Refuse a cluster where a worker runs another archiver or cannot see a root."""
    try:
        answers: dict[str, tuple[str, list[str]]] = client.run(visible_roots, list(roots))
    except (OSError, TimeoutError) as exc:
        raise ClusterError(f"cannot ask the workers what they see ({exc})") from None
    for worker, (version, missing) in sorted(answers.items()):
        if missing:
            raise ClusterError(
                f"worker {worker}: cannot see {missing[0]} (every worker must see the bags "
                "at the same paths as this machine)"
            )
        if version != __version__:
            raise ClusterError(
                f"worker {worker}: runs archiver {version}, this machine {__version__} "
                "(install the same version on every worker)"
            )


class DaskExecutor:
    """A ``TaskExecutor`` on a ``distributed.Client``.

    Tasks go through ``distributed``'s own ``concurrent.futures`` executor with
    ``pure=False`` (each a unique key: never merged with another task); results are
    fetched on the client's event loop. A future whose task cannot finish because the
    cluster failed (scheduler gone, its workers killed too often) gets a ``ClusterError``.
    """

    def __init__(self, client: Any, address: str) -> None:
        self._client = client
        self._executor = client.get_executor(pure=False)
        self._killed = _import_distributed().KilledWorker
        self.address = address

    @property
    def workers(self) -> int:
        """Threads across the cluster's workers now (at least 1)."""
        try:
            return max(1, int(sum(self._client.nthreads().values())))
        except Exception:  # the scheduler is gone: the next task fails with a ClusterError
            return 1

    def submit(self, fn: Callable[..., T], /, *args: Any) -> Future[T]:
        """Send ``fn(*args)`` to the cluster."""
        result: Future[T] = Future()
        result.set_running_or_notify_cancel()
        try:
            task = self._executor.submit(fn, *args)
        except Exception as exc:
            result.set_exception(self._lost(exc))
            return result
        task.add_done_callback(lambda done: self._settle(done, result))
        return result

    def _settle(self, task: Future[Any], result: Future[Any]) -> None:
        """Pass the task's outcome on, a cluster failure as a ``ClusterError``."""
        if task.cancelled():
            result.set_exception(self._lost(None))
            return
        exc = task.exception()
        if exc is None:
            result.set_result(task.result())
        elif isinstance(exc, self._killed):
            result.set_exception(
                ClusterError(f"scheduler {self.address}: a task's workers kept dying ({exc})")
            )
        elif isinstance(exc, OSError | TimeoutError) and "comm" in type(exc).__module__:
            result.set_exception(self._lost(exc))
        else:
            result.set_exception(exc)

    def _lost(self, exc: BaseException | None) -> ClusterError:
        reason = f" ({type(exc).__name__}: {exc})" if exc is not None and str(exc) else ""
        return ClusterError(
            f"scheduler {self.address}: lost before the audit finished{reason}; nothing recorded"
        )

    def close(self) -> None:
        """Nothing to do: ``connect`` closes the client."""


@contextlib.contextmanager
def connect(
    scheduler: str,
    roots: Sequence[str],
    *,
    local_workers: int | None = None,
    timeout: float = CONNECT_TIMEOUT,
) -> Iterator[DaskExecutor]:
    """A ``DaskExecutor`` on the scheduler at ``scheduler`` (``tcp://HOST:PORT``), or on a
    ``LocalCluster`` of ``local_workers`` processes (one thread each) for ``"local"``.

    Waits up to ``timeout`` seconds for the scheduler and one worker, then checks that every
    worker sees every root (``check_workers``). Any failure: ``ClusterError``, one line.
    """
    distributed = _import_distributed()
    with _quiet_logs(), contextlib.ExitStack() as made:
        try:
            if scheduler == LOCAL:
                cluster = distributed.LocalCluster(
                    n_workers=local_workers or os.cpu_count() or 1,
                    threads_per_worker=1,
                    processes=True,
                    dashboard_address=":0",  # any free port: never a clash with another
                    silence_logs=logging.CRITICAL,
                )
                made.callback(_close, cluster)
                address = str(cluster.scheduler_address)
                client = distributed.Client(cluster, timeout=timeout)
            else:
                address = scheduler
                client = distributed.Client(scheduler, timeout=timeout)
            made.callback(_close, client)  # closed before the cluster
            client.wait_for_workers(1, timeout=timeout)
        except (OSError, TimeoutError) as exc:
            raise ClusterError(
                f"scheduler {scheduler}: cannot connect or no worker joined within "
                f"{timeout:g} s ({type(exc).__name__}: {exc})"
            ) from None
        except ValueError as exc:  # a malformed address
            raise ClusterError(f"scheduler {scheduler}: {exc}") from None
        check_workers(client, roots)
        yield DaskExecutor(client, address)


def _close(thing: Any) -> None:
    """Close a client or cluster, whatever state its scheduler is in."""
    with contextlib.suppress(Exception):
        thing.close(timeout=5)


def silence_logs() -> None:
    """For a command-line run: no log line from distributed, or from the tornado and
    asyncio loops it runs on, for the rest of the process (a cluster lost or closing still
    logs from its threads, also after ``connect`` returns)."""
    _import_distributed()
    roots = ("distributed", "tornado", "asyncio")
    names = [n for n in logging.Logger.manager.loggerDict if n.startswith(roots)]
    for name in [*roots, *names]:
        logging.getLogger(name).setLevel(logging.CRITICAL + 1)


@contextlib.contextmanager
def _quiet_logs() -> Iterator[None]:
    """Silence distributed's loggers for the run (the CLI says one line, not the cluster's
    log); their levels are restored afterwards."""
    manager = logging.Logger.manager
    names = ["distributed", *(n for n in manager.loggerDict if n.startswith("distributed."))]
    loggers = [logging.getLogger(name) for name in names]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.CRITICAL + 1)
    try:
        yield
    finally:
        for logger, level in zip(loggers, levels, strict=True):
            logger.setLevel(level)
