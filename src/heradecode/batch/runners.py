"""Where a batch runs: a local process pool, or a Dask cluster through ``Client.get_executor()``.

Both give :class:`concurrent.futures.Future` s.  :class:`LocalRunner` is recreated (and the
batch resubmits its unfinished tasks) when one of its processes dies; with :class:`DaskRunner`
the scheduler reschedules the tasks of a dead worker on the others by itself.
"""

from __future__ import annotations

import concurrent.futures as cf
import logging
import multiprocessing
import signal
from collections.abc import Callable

from heradecode.batch.tasks import _one_line
from heradecode.errors import UserError


def _init_worker() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    logging.getLogger("heradecode").setLevel(logging.WARNING)  # no per-recording info lines under the progress bar


class LocalRunner:
    """A local process pool; :meth:`restart` replaces it when one of its processes died."""

    kind = "local"
    dashboard: str | None = None

    def __init__(self, workers: int) -> None:
        self.workers = max(1, int(workers))
        self.restarts = 0
        self._ctx = multiprocessing.get_context("fork" if "fork" in multiprocessing.get_all_start_methods()
                                                else "spawn")
        self.pool = self._new_pool()

    def _new_pool(self) -> cf.ProcessPoolExecutor:
        return cf.ProcessPoolExecutor(max_workers=self.workers, mp_context=self._ctx, initializer=_init_worker)

    def submit(self, fn: Callable, *args) -> cf.Future:
        """Queue ``fn(*args)`` on a worker process."""
        return self.pool.submit(fn, *args)

    def restart(self) -> None:
        """Replace a broken pool by a new one."""
        self.pool.shutdown(wait=False, cancel_futures=True)
        self.pool = self._new_pool()
        self.restarts += 1

    def close(self, cancel: bool = False) -> None:
        """Shut the pool down; ``cancel`` also stops running tasks (their worker processes are ended)."""
        if cancel:
            procs = list(getattr(self.pool, "_processes", {}).values())  # no public handle on them
            self.pool.shutdown(wait=False, cancel_futures=True)
            for p in procs:
                if p.is_alive():
                    p.terminate()
            for p in procs:
                p.join(5)
        else:
            self.pool.shutdown(wait=True)


#: Dask's nannies start workers with MALLOC_TRIM_THRESHOLD_=65536, which turns off glibc's dynamic mmap
#: threshold: every large numpy array is then mmap'ed and faulted in afresh, and the receiver's chunk
#: buffers cost as much system CPU time as a third of the decoding (measured: 1.8 against 0.2 CPU-s for the
#: same batch).  The LocalCluster leaves the variable unset; for ``dask worker`` processes, see the README.
TRIM_KEY = "distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_"


class DaskRunner:
    """A Dask cluster through ``Client.get_executor()``: ``--scheduler ADDRESS`` or a LocalCluster."""

    kind = "dask"

    def __init__(self, scheduler: str | None = None, *, local_workers: int = 2, timeout_s: float = 30.0) -> None:
        try:
            from distributed import Client, LocalCluster
        except ImportError:
            raise UserError("Dask support not installed (pip install distributed)") from None
        self.cluster = None
        if scheduler is None:
            import dask

            dashboard = ":0" if _has_bokeh() else None
            with dask.config.set({TRIM_KEY: None}):  # glibc keeps its own malloc thresholds (see TRIM_KEY)
                self.cluster = LocalCluster(n_workers=max(1, local_workers), threads_per_worker=1, processes=True,
                                            host="127.0.0.1", dashboard_address=dashboard, silence_logs=40)
            self.client = Client(self.cluster)
        else:
            try:
                self.client = Client(scheduler, timeout=timeout_s)
            except (OSError, TimeoutError) as exc:
                raise UserError(f"cannot reach the Dask scheduler at {scheduler} ({_one_line(exc)})") from None
        self.executor = self.client.get_executor(pure=False)
        self.dashboard = None  #: the dashboard's address (None when the scheduler serves none)
        if "dashboard" in self.client.scheduler_info().get("services", {}):
            self.dashboard = self.client.dashboard_link
        self.restarts = 0

    @property
    def workers(self) -> int:
        """Workers in the cluster now."""
        return len(self.client.scheduler_info().get("workers", {}))

    def submit(self, fn: Callable, *args) -> cf.Future:
        """Queue ``fn(*args)`` on the cluster."""
        return self.executor.submit(fn, *args)

    def restart(self) -> None:  # the scheduler reschedules the tasks of a dead worker itself
        raise RuntimeError("a Dask executor does not break")

    def close(self, cancel: bool = False) -> None:
        """Leave the cluster (and stop it when it is our LocalCluster); ``cancel`` drops queued tasks."""
        try:
            self.executor.shutdown(wait=not cancel)
        finally:
            self.client.close()
            if self.cluster is not None:
                self.cluster.close()


def _has_bokeh() -> bool:
    try:
        import bokeh  # noqa: F401
    except ImportError:
        return False
    return True
