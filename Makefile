# One entry point for newcomers and CI. Each target creates .venv and installs what it needs.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python

.PHONY: demo test bench notebooks lint browser torch-cpu clean

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip

# One stamp per extra, redone when pyproject.toml changes.
$(VENV)/.extra-%: pyproject.toml | $(VENV)/bin/python
	$(PY) -m pip install -q -e ".[$*]"
	@touch $@

demo: $(VENV)/.extra-demo  ## train an MLP on digits, write metrics, curves and graph SVG under runs/demo
	$(PY) -m nn.examples.digits --out runs/demo

test: $(VENV)/.extra-test browser torch-cpu  ## the full test suite, as CI runs it
	OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 $(PY) -m pytest -n 2 -q

bench: $(VENV)/.extra-bench torch-cpu  ## benchmarks (PyTorch CPU column when its local wheel exists)
	env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE $(PY) -m bench.run --json bench/results.json

notebooks: $(VENV)/.extra-notebooks
	$(PY) -m jupyter lab notebooks

lint: $(VENV)/.extra-dev
	$(PY) -m ruff check autograd nn viz tests bench notebooks

# PyTorch CPU for the optional parity tests, only from a local wheel (--no-index: never a CUDA download).
torch-cpu: | $(VENV)/bin/python
	@$(PY) -c "import torch" 2>/dev/null || { \
	  $(PY) -m pip install -q --no-index --no-deps torch==2.13.0 2>/dev/null \
	    && $(PY) -m pip install -q torch==2.13.0 \
	    || echo "note: no local PyTorch CPU wheel; the optional PyTorch parity tests will be skipped"; }

# Headless Chromium for the stepper's browser test (Debian package; needs root, as on CI).
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
	      || echo "warning: could not install chromium; the browser test will be skipped"; \
	  else echo "warning: chromium not found and not root; the browser test will be skipped"; fi; }

clean:
	rm -rf $(VENV) runs .pytest_cache .hypothesis
