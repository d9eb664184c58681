"""The notebooks are jupytext percent scripts (notebooks/*.py): each is built into its paired .ipynb
(in a temporary folder, as `python3 dev.py notebooks` builds it beside the script) and executed top to
bottom on the bundled data."""

from __future__ import annotations

import re
import time
from pathlib import Path

import jupytext
import nbformat
import pytest
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

from tests.helpers import REPO

NB_DIR = REPO / "notebooks"
EXPECTED = ("01_decode_a_recording.py", "02_doppler.py", "03_telemetry.py")
SCRIPTS = sorted(p.name for p in NB_DIR.glob("[0-9][0-9]_*.py"))
CELL_TIMEOUT_S = 300  # per cell: generous, the first run compiles the numba kernels
ANSI = re.compile(r"\x1b\[[0-9;]*m")  # colour codes in IPython tracebacks
BUDGET_S = 120.0  # per notebook; each takes ~5-10 s on the 2-core machine once numba's cache is warm


def test_the_three_notebooks_are_there():
    assert set(EXPECTED) <= set(SCRIPTS), SCRIPTS


def build(name: str, out_dir: Path) -> Path:
    """The paired notebook of ``notebooks/name`` written into ``out_dir`` (what ``jupytext --to ipynb`` writes)."""
    nb = jupytext.read(NB_DIR / name)
    path = out_dir / (Path(name).stem + ".ipynb")
    jupytext.write(nb, path)
    return path


@pytest.mark.parametrize("name", SCRIPTS)
def test_script_is_a_percent_notebook_paired_with_ipynb(name, tmp_path):
    text = (NB_DIR / name).read_text(encoding="utf-8")
    assert "formats: ipynb,py:percent" in text, f"{name}: not paired (jupytext --set-formats ipynb,py:percent)"
    nb = nbformat.read(build(name, tmp_path), as_version=4)
    nbformat.validate(nb)
    assert nb.metadata.kernelspec.name == "python3"
    kinds = [c.cell_type for c in nb.cells]
    assert kinds[0] == "markdown" and kinds.count("code") >= 3, kinds
    for i, cell in enumerate(nb.cells):
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None, f"{name} cell {i}"
    # the round trip script -> notebook -> script is exact, so an edit in Jupyter (with jupytext) lands in the script
    assert _unversioned(jupytext.writes(nb, fmt="py:percent")) == _unversioned(text)


def _unversioned(text: str) -> str:
    return re.sub(r"(?m)^#\s+jupytext_version: .*\n", "", text)


def execute(name: str, cwd: Path, build_dir: Path) -> tuple[float, int]:
    """Build one notebook and run it in a fresh python3 kernel started in ``cwd``; return (seconds, code cells)."""
    nb = nbformat.read(build(name, build_dir), as_version=4)
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
@pytest.mark.parametrize("name", SCRIPTS)
def test_notebook_executes(name, tmp_path, capsys):
    elapsed, cells = execute(name, NB_DIR, tmp_path)
    with capsys.disabled():
        print(f"\n[notebook] {name}: executed without error in {elapsed:.1f} s ({cells} code cells)")
    assert elapsed < BUDGET_S, f"{name} took {elapsed:.0f} s (budget {BUDGET_S:.0f} s)"


@pytest.mark.slow
def test_notebook_finds_the_data_from_the_repository_root(tmp_path, capsys):
    elapsed, _ = execute("03_telemetry.py", REPO, tmp_path)
    with capsys.disabled():
        print(f"\n[notebook] 03_telemetry from the repository root: executed without error in {elapsed:.1f} s")
