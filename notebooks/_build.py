"""Build the tutorial notebooks (``notebooks/NN_name.ipynb``) from their reviewable sources in ``notebooks/src/``.

    python notebooks/_build.py           # (re)write every .ipynb
    python notebooks/_build.py --check   # exit 1 if any .ipynb is missing or differs from its source

A source is a Python file in "percent" format: ``# %%`` starts a code cell, ``# %% [markdown]`` a
markdown cell whose lines are comments (``# text``). In a code cell, a commented line magic such as
``# %matplotlib inline`` becomes the magic itself (so the source stays valid Python). Notebooks are
written without outputs, with stable cell ids, so a rebuild of unchanged sources gives byte-identical files.
"""
from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
SRC = HERE / "src"

_LINE_MAGIC = re.compile(r"^# %[a-z]\w* ")   # "# %matplotlib inline" in a code cell -> "%matplotlib inline"
_METADATA = {
    "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
    "language_info": {"name": "python", "pygments_lexer": "ipython3"},
}


def _markdown_line(line: str, where: str) -> str:
    """The text of one commented markdown line (``# text`` -> ``text``, ``#`` -> empty)."""
    if line == "#":
        return ""
    if not line.startswith("# "):
        raise ValueError(f"{where}: a markdown cell line must start with '# ' (or be '#'), got {line!r}")
    return line[2:]


def parse(source: str, name: str = "<source>") -> list[tuple[str, str]]:
    """The cells of a percent-format source as ``[(kind, text)]``, kind 'markdown' or 'code'."""
    cells: list[tuple[str, list[str]]] = []
    for n, line in enumerate(source.splitlines(), start=1):
        marker = line.strip()
        if marker == "# %%":
            cells.append(("code", []))
        elif marker == "# %% [markdown]":
            cells.append(("markdown", []))
        elif not cells:
            if line.strip():
                raise ValueError(f"{name}:{n}: text before the first '# %%' cell marker")
        elif cells[-1][0] == "markdown":
            cells[-1][1].append(_markdown_line(line, f"{name}:{n}") if line.strip() else "")
        else:
            cells[-1][1].append(line[2:] if _LINE_MAGIC.match(line) else line)
    out = []
    for kind, lines in cells:
        text = "\n".join(lines).strip("\n")
        if not text.strip():
            raise ValueError(f"{name}: empty {kind} cell")
        out.append((kind, text))
    return out


def _split_source(text: str) -> list[str]:
    """nbformat's multi-line string form: a list of lines, each but the last keeping its newline."""
    lines = text.split("\n")
    return [line + "\n" for line in lines[:-1]] + [lines[-1]]


def to_notebook(cells: list[tuple[str, str]], stem: str) -> dict:
    """An nbformat 4.5 notebook (as a dict) with the given cells, no outputs, and stable ids ``c<NN>-<k>``."""
    prefix = stem.split("_")[0]
    nb_cells = []
    for k, (kind, text) in enumerate(cells):
        cell = {"cell_type": kind, "id": f"c{prefix}-{k:02d}", "metadata": {}, "source": _split_source(text)}
        if kind == "code":
            cell.update(execution_count=None, outputs=[])
        nb_cells.append(cell)
    return {"cells": nb_cells, "metadata": _METADATA, "nbformat": 4, "nbformat_minor": 5}


def render(src: Path) -> str:
    """The .ipynb text built from one source file."""
    nb = to_notebook(parse(src.read_text(encoding="utf-8"), src.name), src.stem)
    return json.dumps(nb, indent=1, ensure_ascii=False) + "\n"


def sources() -> list[Path]:
    """The notebook sources, in notebook order."""
    return sorted(SRC.glob("[0-9][0-9]_*.py"))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only check that every notebook is up to date")
    args = parser.parse_args(argv)
    stale = []
    for src in sources():
        target = HERE / f"{src.stem}.ipynb"
        text = render(src)
        current = target.read_text(encoding="utf-8") if target.exists() else None
        if current == text:
            continue
        if args.check:
            stale.append(target.name)
        else:
            target.write_text(text, encoding="utf-8")
            print(f"wrote {target.relative_to(HERE.parent)}")
    if stale:
        print("out of date (run python notebooks/_build.py): " + ", ".join(stale), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
