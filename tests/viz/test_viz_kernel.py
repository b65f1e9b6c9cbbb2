"""The Stepper widget in a real Jupyter kernel: displayed in one cell, stepped from another, its state read
back from the widget messages the kernel sent (what a front end would show)."""
import json
import pathlib

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")
pytest.importorskip("ipywidgets")

ROOT = pathlib.Path(__file__).resolve().parents[2]

CELLS = [
    # 1: build and display the Stepper (ipywidgets available: a slider, buttons, the drawing, the caption)
    "import autograd as ag, viz\n"
    "a = ag.tensor([0.5, -1.0], requires_grad=True, name='a')\n"
    "b = ag.tensor([2.0, 3.0], requires_grad=True, name='b')\n"
    "s = viz.Stepper(((a * b).exp() + (a * b).sin()).sum())\n"
    "s",
    # 2: step it from another cell
    "s.step(3); s.goto(6);",
    # 3: what the Python side thinks
    "import json; print(json.dumps({'position': s.position, 'n': len(s), 'title': s.frames[6].title}))",
]


def _kernel_client(nb):
    client = nbclient.NotebookClient(nb, timeout=60, kernel_name="python3", store_widget_state=True,
                                     resources={"metadata": {"path": str(ROOT)}})
    try:
        client.km = client.create_kernel_manager()
        client.start_new_kernel(cwd=str(ROOT))
        client.start_new_kernel_client()
    except Exception as e:  # noqa: BLE001 -- no kernel on this machine: nothing to test here
        pytest.skip(f"a Jupyter kernel could not start: {type(e).__name__}: {e}")
    return client


@pytest.mark.slow
def test_stepper_widget_in_a_real_kernel_moves_when_stepped_from_another_cell():
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(src) for src in CELLS]
    client = _kernel_client(nb)
    try:
        for i, cell in enumerate(nb.cells):
            client.execute_cell(cell, i)
        client.set_widgets_metadata()
    finally:
        client._cleanup_kernel()
    shown = nb.cells[0].outputs
    assert any("application/vnd.jupyter.widget-view+json" in o.get("data", {}) for o in shown), shown
    py = json.loads(nb.cells[2].outputs[0]["text"])
    assert py["position"] == 6
    state = nb.metadata["widgets"]["application/vnd.jupyter.widget-state+json"]["state"]
    models = {k: m["state"] for k, m in state.items()}
    (slider,) = [m for m in models.values() if m.get("_model_name") == "IntSliderModel"]
    assert (slider["min"], slider["max"], slider["value"]) == (1, py["n"], 7)  # steps counted from 1
    htmls = [m["value"] for m in models.values() if m.get("_model_name") == "HTMLModel"]
    assert any(f"step 7 / {py['n']} \u00b7 {py['title']}" in h for h in htmls)  # the caption moved too
    assert any('class="node current"' in h for h in htmls)  # and the drawing shows the highlighted node
