"""graphgrad's viz: see the computation graph, the backward pass, models and networks.

Every drawing is a ``graphviz.Digraph`` that renders to SVG with the system ``dot`` or, when
Graphviz is not installed, in-process (see ``viz.render``); ``viz.plots`` holds the matplotlib
plots (optional ``plot`` extra).
"""
import autograd as _autograd

if not getattr(_autograd, "__graphgrad__", False):
    raise ImportError(
        "viz needs graphgrad's `autograd` package, but `import autograd` found another package of the same name "
        f"at {getattr(_autograd, '__file__', '?')} (most likely PyPI's HIPS `autograd`). The two cannot be "
        "installed in one environment: run `pip uninstall autograd` and then `pip install graphgrad` "
        "(or use a separate virtual environment).")

from .graph import draw_backward, draw_graph
from .model import draw_model
from .network import draw_network
from .record import Recording, record
from .render import Drawing, RendererNotFoundError, renderer_name, set_renderer, to_png, to_svg
from .stepper import Frame, Stepper


def __getattr__(name):
    if name == "plots":  # matplotlib is optional: import viz.plots only when asked for
        import importlib

        return importlib.import_module(".plots", __name__)
    raise AttributeError(f"module 'viz' has no attribute {name!r}")


__all__ = [
    "Drawing",
    "Frame",
    "Recording",
    "RendererNotFoundError",
    "Stepper",
    "draw_backward",
    "draw_graph",
    "draw_model",
    "draw_network",
    "record",
    "renderer_name",
    "set_renderer",
    "to_png",
    "to_svg",
]
