"""Every notebook in notebooks/ runs start to finish on the project's own Python, in under 2 minutes."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import nbformat
import pytest
from jupyter_client.kernelspec import KernelSpecManager
from jupyter_client.manager import KernelManager
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
BUDGET_S = 120
KERNEL = "myna-twin"


def _kernel_manager(where: Path) -> KernelManager:
    """A kernel on this interpreter (the project venv), whatever kernels the machine has registered."""
    spec = where / "kernels" / KERNEL
    spec.mkdir(parents=True)
    (spec / "kernel.json").write_text(json.dumps({
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "myna-twin (project venv)", "language": "python",
        "env": {"PYTHONPATH": str(ROOT)},
    }))
    ksm = KernelSpecManager(kernel_dirs=[str(where / "kernels")])
    return KernelManager(kernel_name=KERNEL, kernel_spec_manager=ksm)


def test_there_are_at_least_three_studies_plus_the_calibration_walkthrough():
    names = {p.stem for p in NOTEBOOKS}
    assert len(names) >= 4, names


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_the_notebook_is_committed_with_outputs_cleared(path):
    nb = nbformat.read(path, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert code and all(not c.outputs and c.execution_count is None for c in code)


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_the_notebook_runs_start_to_finish_within_two_minutes(path, tmp_path):
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(nb, km=_kernel_manager(tmp_path), timeout=BUDGET_S,
                            resources={"metadata": {"path": str(ROOT)}})
    t = time.perf_counter()
    client.execute()
    elapsed = time.perf_counter() - t
    assert elapsed < BUDGET_S, f"{path.name} took {elapsed:.0f} s"
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "error"]
    assert not errors
    assert any(o.output_type in ("display_data", "execute_result") for c in nb.cells
               if c.cell_type == "code" for o in c.outputs), "the notebook shows no result"
