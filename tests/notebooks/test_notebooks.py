"""The notebooks in notebooks/ run top to bottom on the bundled data, are stored without outputs,
and are exactly what notebooks/make_notebooks.py writes."""

from __future__ import annotations

import re
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

from tests.conftest import REPO

NB_DIR = REPO / "notebooks"
GENERATOR = NB_DIR / "make_notebooks.py"
EXPECTED = ("01_decode_a_recording.ipynb", "02_doppler.ipynb", "03_telemetry.ipynb")
NOTEBOOKS = sorted(p.name for p in NB_DIR.glob("*.ipynb"))
CELL_TIMEOUT_S = 300  # per cell: generous, the first run compiles the numba kernels
ANSI = re.compile(r"\x1b\[[0-9;]*m")  # colour codes in IPython tracebacks
BUDGET_S = 120.0  # per notebook; each takes ~5-10 s on the 2-core machine once numba's cache is warm



def test_the_three_notebooks_are_there():
    assert set(EXPECTED) <= set(NOTEBOOKS), NOTEBOOKS


def execute(name: str, cwd: Path) -> tuple[float, int]:
    """Run one notebook in a fresh python3 kernel started in ``cwd``; return (seconds, code cells run)."""
    nb = nbformat.read(NB_DIR / name, as_version=4)
    client = NotebookClient(nb, timeout=CELL_TIMEOUT_S, kernel_name="python3",
                            resources={"metadata": {"path": str(cwd)}})
    t0 = time.perf_counter()
    failure = None
    try:
        client.execute()
    except CellExecutionError as exc:  # the message holds the failing cell's source and traceback
        failure = ANSI.sub("", str(exc))
    if failure is not None:
        pytest.fail(f"{name} failed (kernel started in {cwd}):\n{failure}", pytrace=False)
    elapsed = time.perf_counter() - t0
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert all(c.execution_count is not None for c in code), f"{name}: not every code cell ran"
    errors = [o for c in code for o in c.outputs if o.output_type == "error"]
    assert not errors, f"{name}: {errors[0]['ename']}: {errors[0]['evalue']}"
    return elapsed, len(code)


@pytest.mark.slow
@pytest.mark.parametrize("name", NOTEBOOKS)
def test_notebook_executes(name, capsys):
    elapsed, cells = execute(name, NB_DIR)
    with capsys.disabled():
        print(f"\n[notebook] {name}: executed without error in {elapsed:.1f} s ({cells} code cells)")
    assert elapsed < BUDGET_S, f"{name} took {elapsed:.0f} s (budget {BUDGET_S:.0f} s)"


@pytest.mark.slow
def test_notebook_finds_the_data_from_the_repository_root(capsys):
    elapsed, cells = execute("03_telemetry.ipynb", REPO)
    with capsys.disabled():
        print(f"\n[notebook] 03_telemetry.ipynb from the repository root: executed without error in {elapsed:.1f} s")


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_stored_without_outputs(name):
    nb = nbformat.read(NB_DIR / name, as_version=4)
    nbformat.validate(nb)
    assert nb.metadata.kernelspec.name == "python3"
    for i, cell in enumerate(nb.cells):
        assert cell.get("attachments") in (None, {}), f"{name} cell {i} has attachments"
        if cell.cell_type == "code":
            assert cell.outputs == [], f"{name} cell {i} holds outputs: clear them or rerun make_notebooks.py"
            assert cell.execution_count is None, f"{name} cell {i} has an execution count"


def test_generator_rewrites_the_stored_notebooks_byte_for_byte(tmp_path):
    run = subprocess.run([sys.executable, str(GENERATOR), "--out-dir", str(tmp_path)], capture_output=True,
                         text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    made = sorted(p.name for p in tmp_path.glob("*.ipynb"))
    assert made == NOTEBOOKS, "notebooks/ and make_notebooks.py list different notebooks"
    for name in made:
        assert (tmp_path / name).read_bytes() == (NB_DIR / name).read_bytes(), \
            f"{name} differs from what make_notebooks.py writes: edit the generator, then run it"


def test_generator_check_flags_an_edited_notebook(tmp_path):
    check = [sys.executable, str(GENERATOR), "--check", "--out-dir", str(tmp_path)]
    subprocess.run([sys.executable, str(GENERATOR), "--out-dir", str(tmp_path)], check=True, capture_output=True,
                   timeout=120)
    assert subprocess.run(check, capture_output=True, timeout=120).returncode == 0
    edited = tmp_path / EXPECTED[1]
    edited.write_text(edited.read_text(encoding="utf-8").replace("Doppler", "Dopler", 1), encoding="utf-8")
    run = subprocess.run(check, capture_output=True, text=True, timeout=120)
    assert run.returncode == 1 and EXPECTED[1] in run.stderr
