"""The two GRC flowgraphs compile with grcc and decode the archived recordings to their golden lists."""

import os
import subprocess
import sys
import time

import pytest

from heradecode.gr.install import grc_blocks_dir
from tests.helpers import HERA_DOPPLER, REPO, frame_hashes, golden
from tests.gr.gnuradio_env import require_gnuradio

require_gnuradio(grcc=True)

import shutil  # noqa: E402

SIM = REPO / "recordings" / "sim"
FLOWGRAPHS = [("hera_low_rate", "hera_low_sim", "hera_low_sim.sigmf-meta"),
              ("hera_high_rate", "hera_high_sim", "hera_high_sim_0x.sigmf-meta")]


@pytest.mark.slow
@pytest.mark.gnuradio
@pytest.mark.parametrize("flowgraph,name,meta", FLOWGRAPHS)
def test_flowgraph_compiles_runs_and_equals_golden(flowgraph, name, meta, tmp_path, capsys):
    env = dict(os.environ, GRC_BLOCKS_PATH=str(grc_blocks_dir()))
    # grcc runs under this Python so that GRC can evaluate the heradecode expressions of the flowgraph
    t0 = time.perf_counter()
    comp = subprocess.run([sys.executable, shutil.which("grcc"), "-o", str(tmp_path), str(REPO / "flowgraphs" /
                           f"{flowgraph}.grc")], cwd=REPO, env=env, capture_output=True, text=True)
    assert comp.returncode == 0, comp.stdout + comp.stderr
    script = tmp_path / f"{flowgraph}.py"
    assert script.is_file()
    t1 = time.perf_counter()
    out = tmp_path / "out"
    run = subprocess.run([sys.executable, str(script), "--recording", str(SIM / meta), "--doppler", str(HERA_DOPPLER),
                          "--out-dir", str(out)], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stdout + run.stderr
    t2 = time.perf_counter()
    got = frame_hashes((out / "frames.u8").read_bytes())
    assert got == golden(name)
    assert (out / "packets.csv").is_file() and (out / "summary.json").is_file()
    with capsys.disabled():
        print(f"\n[flowgraph] {flowgraph}.grc: compiled with grcc in {t1 - t0:.1f} s, ran on {meta} in {t2 - t1:.1f} s: "
              f"{len(got)} frames, equal to {name}.golden.txt")
