"""Helpers of the batch tests: a real Dask cluster on loopback, test recordings, product comparison."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

from tests.helpers import HIGH, REPO, SIM_DIR, frame_hashes, golden

SRC = REPO / "src"
ARCHIVED = ("hera_low_sim", "hera_high_sim")
LONG = "long_high"  # a simulated recording long enough to be cut into two segments (with --segment-s 2)
LONG_PARAMS = dict(samp_rate=1.536e6, frames_path=str(HIGH), first_frame=20, num_frames=60, ebn0_db=6.0,
                   datatype="ci8", carrier_offset_hz=-3000.0, seed=16)
SLOW = "slow_high"  # 44 s of signal, still decoding 0.5 s after it started: for the kill and Ctrl-C tests
SLOW_PARAMS = {**LONG_PARAMS, "num_frames": 400}
CORRUPT = "corrupt_meta"  # a recording whose metadata is not JSON
NOISE = "noise_only"  # a readable recording with no signal in it


def worker_env() -> dict[str, str]:
    """The environment of every Dask process: this checkout's sources first."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(SRC), str(REPO), *filter(None, [env.get("PYTHONPATH")])])
    env.setdefault("DASK_DISTRIBUTED__WORKER__DAEMON", "False")
    return env


class DaskCluster:
    """``dask scheduler`` and ``dask worker`` processes on 127.0.0.1 (free ports), stopped on exit."""

    def __init__(self, tmp: Path, n_workers: int = 2, nanny: bool = False, timeout_s: float = 60.0) -> None:
        self.tmp = Path(tmp)
        self.n_workers = n_workers
        self.nanny = nanny
        self.timeout_s = timeout_s
        self.procs: dict[str, subprocess.Popen] = {}
        self._logs: list = []
        self.address = ""

    def __enter__(self) -> "DaskCluster":
        try:
            self._start_all()
        except BaseException:
            self.__exit__()
            raise
        return self

    def _start_all(self) -> None:
        self.tmp.mkdir(parents=True, exist_ok=True)
        sched_file = self.tmp / "scheduler.json"
        sched_file.unlink(missing_ok=True)
        env = worker_env()
        self._start("scheduler", [sys.executable, "-m", "dask", "scheduler", "--host", "127.0.0.1",
                                  "--port", "0", "--no-dashboard", "--scheduler-file", str(sched_file),
                                  "--idle-timeout", "600"], env)
        deadline = time.monotonic() + self.timeout_s
        while not self.address:
            self._check_alive()
            if time.monotonic() > deadline:
                raise RuntimeError("the Dask scheduler did not start")
            try:
                self.address = json.loads(sched_file.read_text())["address"]
            except (OSError, ValueError, KeyError):
                time.sleep(0.1)
        for i in range(self.n_workers):
            name = f"w{i + 1}"
            self._start(name, [sys.executable, "-m", "dask", "worker", self.address, "--name", name,
                               "--nworkers", "1", "--nthreads", "1", "--no-dashboard", "--host", "127.0.0.1",
                               "--nanny" if self.nanny else "--no-nanny", "--death-timeout", "60"], env)
        self.wait_for_workers(self.n_workers)

    def _start(self, name: str, cmd: list[str], env: dict) -> None:
        log = open(self.tmp / f"{name}.log", "wb")
        self._logs.append(log)
        self.procs[name] = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT,
                                            start_new_session=True)

    def _check_alive(self) -> None:
        for name, p in self.procs.items():
            if p.poll() is not None and name == "scheduler":
                raise RuntimeError(f"the Dask scheduler exited: {(self.tmp / 'scheduler.log').read_text()[-2000:]}")

    def workers(self) -> dict[str, str]:
        """Names of the workers the scheduler knows, by address."""
        from distributed import Client

        with Client(self.address, timeout=20) as c:
            return {a: w["name"] for a, w in c.scheduler_info(n_workers=-1)["workers"].items()}

    def wait_for_workers(self, n: int) -> None:
        from distributed import Client

        with Client(self.address, timeout=self.timeout_s) as c:
            c.wait_for_workers(n, timeout=self.timeout_s)

    def kill(self, name: str) -> None:
        """kill -9 one worker process."""
        os.kill(self.procs[name].pid, signal.SIGKILL)
        self.procs[name].wait(10)

    def __exit__(self, *exc) -> None:
        for name in sorted(self.procs, key=lambda n: n == "scheduler"):  # workers first
            p = self.procs[name]
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        for p in self.procs.values():
            try:
                p.wait(3)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait(5)
        for log in self._logs:
            log.close()


def make_inputs(folder: Path, long: bool = True, bad: bool = True) -> Path:
    """A folder of recordings: the archived two, the long simulated one, a corrupt and a noise-only one."""
    from heradecode.sim import SimParams, simulate

    folder.mkdir(parents=True, exist_ok=True)
    for f in SIM_DIR.glob("*.sigmf-*"):
        shutil.copy2(f, folder / f.name)
    if long:
        simulate(SimParams.preset("high", **LONG_PARAMS), folder / LONG)
    if bad:
        text = (SIM_DIR / "hera_low_sim.sigmf-meta").read_text()
        (folder / f"{CORRUPT}.sigmf-meta").write_text(text[: len(text) // 2])
        shutil.copy2(SIM_DIR / "hera_low_sim.sigmf-data", folder / f"{CORRUPT}.sigmf-data")
        simulate(SimParams.preset("low", samp_rate=384_000.0, duration_s=2.0, ebn0_db=3.0, datatype="ci8",
                                  seed=5, fades=[(0.0, float("-inf")), (2.0, float("-inf"))]), folder / NOISE)
    return folder


def make_slow_inputs(folder: Path) -> Path:
    """A folder of recordings: the archived two and the slow one (:data:`SLOW`)."""
    from heradecode.sim import SimParams, simulate

    make_inputs(folder, long=False, bad=False)
    simulate(SimParams.preset("high", **SLOW_PARAMS), folder / SLOW)
    return folder


def expected_frames(name: str) -> list[str]:
    """sha256 of each frame a correct decode of recording ``name`` returns, in order."""
    params = {LONG: LONG_PARAMS, SLOW: SLOW_PARAMS}.get(name)
    if params is not None:
        from heradecode.sim import SimParams, simulated_frames

        return frame_hashes(simulated_frames(SimParams.preset("high", **params)).tobytes())
    return golden(name)


def decoded_frames(out: Path, name: str) -> list[str]:
    """sha256 of each frame in a batch's product folder of recording ``name``."""
    return frame_hashes((out / name / "frames.u8").read_bytes())


def folder_files(folder: Path) -> dict[str, bytes]:
    """Every file of a product folder, by relative name."""
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def report_rows(out: Path, earlier: bool = False) -> dict[str, dict]:
    """batch.json's rows by recording name (``earlier``: also those of earlier batches kept there)."""
    doc = json.loads((out / "batch.json").read_text())
    return {r["name"]: r for key in (("earlier_recordings", "recordings") if earlier else ("recordings",))
            for r in doc[key]}
