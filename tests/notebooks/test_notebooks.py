"""The tutorial notebooks run top to bottom without Jupyter, list valid concept ids, and carry no outputs.

Each notebook's code cells are executed in order in one namespace, in a temporary working directory,
with the Agg matplotlib backend; every claim in a notebook is an ``assert``, so a notebook that runs
is a notebook whose numbers are right. The .ipynb files must also match their sources in notebooks/src.
"""
from __future__ import annotations

import ast
import io
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = ROOT / "notebooks"
PATHS = sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))
EXPECTED = ["01_autograd_basics", "02_worked_network", "03_activations", "04_losses_and_optimisers",
            "05_training_real_data", "06_convolution"]
EXPECTED += ["07_recurrent", "08_attention", "09_checking_gradients", "10_watching_backprop"]
# Notebooks that take more than about 5 s on 2 cores (they train networks).
SLOW = {"05_training_real_data", "06_convolution"}
SLOW |= {"07_recurrent", "08_attention"}

# The concept ids of the course material (SEEDS.md): L1-L4 layers, A1-A8 activations, E1-E5 losses,
# T1-T12 training, C1-C6 convolution, R1-R5 recurrent nets, N1-N5 attention.
_FAMILIES = {"L": 4, "A": 8, "E": 5, "T": 12, "C": 6, "R": 5, "N": 5}
SEED_IDS = frozenset(f"{k}{i}" for k, n in _FAMILIES.items() for i in range(1, n + 1))
# What each notebook is meant to demonstrate (from the task that asked for it): its first cell must list these.
REQUIRED = {
    "01_autograd_basics": {"T1", "L1", "L2", "E5"},
    "02_worked_network": {"L4"},
    "03_activations": {f"A{i}" for i in range(1, 9)} | {"T7"},
    "04_losses_and_optimisers": {"E1", "E2", "E3", "E4", "T2", "T4", "T5", "T6", "T11"},
    "05_training_real_data": {"L3", "T3", "T8", "T9", "T10", "T12"},
    "06_convolution": {"C1", "C2", "C3", "C4", "C5", "C6"},
    "09_checking_gradients": {"T1", "A3"},
    "10_watching_backprop": {"L4", "T1", "E2", "A1"},
}
REQUIRED["07_recurrent"] = {"R1", "R2", "R3", "R4", "R5"}
REQUIRED["08_attention"] = {"N1", "N2", "N3", "N4", "N5"}


def _load(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def _source(cell: dict) -> str:
    src = cell["source"]
    return src if isinstance(src, str) else "".join(src)


def _concepts(nb: dict) -> list[str]:
    first = nb["cells"][0]
    assert first["cell_type"] == "markdown", "the first cell must be markdown"
    match = re.search(r"^Concepts:\s*(.+)$", _source(first), flags=re.MULTILINE)
    assert match, "the first cell must have a line 'Concepts: T1, L4, ...'"
    return [c.strip() for c in match.group(1).split(",") if c.strip()]


def _display(value) -> None:
    """Do what Jupyter does with a cell's last value, so rendering is exercised too: figures are drawn
    with Agg, drawings render to SVG, the Stepper produces its HTML page."""
    if value is None:
        return
    if hasattr(value, "savefig"):
        value.savefig(io.BytesIO(), format="png")
    elif hasattr(value, "_repr_mimebundle_"):
        bundle = value._repr_mimebundle_()
        assert bundle and any(k != "text/plain" for k in bundle), f"nothing to display for {type(value).__name__}"
    elif hasattr(value, "_repr_html_"):
        assert value._repr_html_()
    elif hasattr(value, "_repr_svg_"):
        assert "<svg" in value._repr_svg_()
    else:
        repr(value)


# The one IPython magic the notebooks may use: it makes Jupyter display the matplotlib Figures cells return.
ALLOWED_MAGICS = {"%matplotlib inline"}


def _without_magics(source: str, filename: str) -> str:
    """The cell as plain Python: allowed line magics become blank lines (Agg needs no setup), others fail."""
    lines = source.split("\n")
    for n, line in enumerate(lines):
        if line.lstrip().startswith(("%", "!")):
            assert line.strip() in ALLOWED_MAGICS, f"{filename}: only {sorted(ALLOWED_MAGICS)} allowed, got {line!r}"
            lines[n] = ""
    return "\n".join(lines)


def _run_cell(source: str, namespace: dict, filename: str) -> None:
    """Execute one code cell; a final expression is evaluated and displayed as in Jupyter."""
    tree = ast.parse(_without_magics(source, filename), filename)
    last = tree.body.pop() if tree.body and isinstance(tree.body[-1], ast.Expr) else None
    exec(compile(tree, filename, "exec"), namespace)
    if last is not None:
        _display(eval(compile(ast.Expression(last.value), filename, "eval"), namespace))


def _param(path: Path):
    marks = [pytest.mark.slow] if path.stem in SLOW else []
    return pytest.param(path, id=path.stem, marks=marks)


def test_every_notebook_is_there():
    assert [p.stem for p in PATHS] == EXPECTED


@pytest.mark.parametrize("path", [pytest.param(p, id=p.stem) for p in PATHS])
def test_structure_and_no_outputs(path):
    nb = _load(path)
    assert nb["nbformat"] == 4 and nb["nbformat_minor"] >= 4
    assert nb["metadata"]["kernelspec"]["language"] == "python"
    kinds = [c["cell_type"] for c in nb["cells"]]
    assert set(kinds) <= {"markdown", "code"} and kinds.count("code") >= 3
    for cell in nb["cells"]:
        if cell["cell_type"] == "code":
            assert cell["outputs"] == [], f"cell {cell.get('id')} is committed with outputs"
            assert cell["execution_count"] is None, f"cell {cell.get('id')} is committed with an execution count"
        assert _source(cell).strip(), f"cell {cell.get('id')} is empty"
    ids = [c["id"] for c in nb["cells"]]
    assert len(set(ids)) == len(ids)


@pytest.mark.parametrize("path", [pytest.param(p, id=p.stem) for p in PATHS])
def test_first_cell_lists_valid_concept_ids(path):
    concepts = _concepts(_load(path))
    unknown = [c for c in concepts if c not in SEED_IDS]
    assert not unknown, f"not SEEDS.md ids: {unknown}"
    assert len(set(concepts)) == len(concepts), f"repeated ids in {concepts}"
    missing = REQUIRED[path.stem] - set(concepts)
    assert not missing, f"{path.name} should demonstrate {sorted(missing)}"


def test_concept_index_in_readme_matches_notebooks():
    """notebooks/README.md's index says, for every id, which notebooks demonstrate it; it must agree."""
    text = (NOTEBOOKS / "README.md").read_text(encoding="utf-8")
    rows = []
    for line in text.splitlines():
        cells = [c.strip() for c in re.split(r"(?<!\\)\|", line.strip())[1:-1]]   # split on unescaped pipes
        if len(cells) == 3 and re.fullmatch(r"[A-Z]\d+", cells[0]):
            rows.append((cells[0], cells[2]))
    ids = [cid for cid, _ in rows]
    assert sorted(ids) == sorted(SEED_IDS), "the README index must list every SEEDS.md id exactly once"
    index = {cid: set(re.findall(r"\b(\d\d)\b", where)) for cid, where in rows}
    actual: dict[str, set[str]] = {cid: set() for cid in SEED_IDS}
    for path in PATHS:
        for cid in _concepts(_load(path)):
            actual[cid].add(path.stem[:2])
    assert index == actual


def _build_module():
    import importlib.util

    spec = importlib.util.spec_from_file_location("notebooks_build", NOTEBOOKS / "_build.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_build_turns_percent_format_into_cells():
    build = _build_module()
    source = ("# %% [markdown]\n# # Title\n#\n# Concepts: T1\n\n# %%\n# %matplotlib inline\nx = 1\n# a comment\n\n"
              "# %%\nx\n")
    cells = build.parse(source)
    assert cells == [("markdown", "# Title\n\nConcepts: T1"), ("code", "%matplotlib inline\nx = 1\n# a comment"),
                     ("code", "x")]
    nb = build.to_notebook(cells, "07_example")
    assert [c["id"] for c in nb["cells"]] == ["c07-00", "c07-01", "c07-02"]
    assert nb["cells"][1]["source"] == ["%matplotlib inline\n", "x = 1\n", "# a comment"]
    assert nb["cells"][1]["outputs"] == [] and "outputs" not in nb["cells"][0]
    for bad in ("x = 1\n# %%\ny = 2\n", "# %% [markdown]\nnot a comment\n", "# %%\n\n# %%\nx\n"):
        with pytest.raises(ValueError):
            build.parse(bad)


def test_notebooks_match_their_sources():
    result = subprocess.run([sys.executable, str(NOTEBOOKS / "_build.py"), "--check"], capture_output=True,
                            text=True, check=False)
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("path", [_param(p) for p in PATHS])
def test_notebook_runs(path, tmp_path, monkeypatch):
    """Execute every code cell in order in one namespace; any exception (a failed assert included) fails."""
    monkeypatch.setenv("MPLBACKEND", "Agg")
    monkeypatch.chdir(tmp_path)
    import matplotlib

    matplotlib.use("Agg", force=True)
    import autograd

    dtype, rng_state = autograd.get_default_dtype(), autograd.get_rng_state()
    namespace = {"__name__": "__main__"}
    try:
        for k, cell in enumerate(c for c in _load(path)["cells"] if c["cell_type"] == "code"):
            _run_cell(_source(cell), namespace, f"{path.name}[code cell {k}]")
    finally:  # leave the process as the notebook found it (it seeds the shared generator)
        autograd.set_default_dtype(dtype)
        autograd.set_rng_state(rng_state)
