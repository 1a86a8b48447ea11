# dawhost: `make run` sets up and serves; `make test` sets up and runs every test.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: setup run test bench lint clean

setup: $(STAMP)

$(STAMP): pyproject.toml scripts/setup-system.sh
	./scripts/setup-system.sh
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	# torch first, pinned: an unpinned torch would pull a multi-GB CUDA build.
	$(BIN)/pip install -q torch==2.13.0
	$(BIN)/pip install -q -e '.[test,train,link,mdns,bench,ray]'
	touch $(STAMP)

run: setup
	$(BIN)/dawhost serve $(ARGS)

test: setup
	$(BIN)/python -m pytest -q $(ARGS)

bench: setup
	@failed=""; for b in benchmarks/bench_*.py; do m=$$(basename $$b .py); echo "== $$m" >&2; $(BIN)/python -m benchmarks.$$m || failed="$$failed $$m"; done; [ -z "$$failed" ] || { echo "failed:$$failed" >&2; exit 1; }

lint: setup
	$(BIN)/ruff check host protocols plugins tests benchmarks max_patches
	$(BIN)/ruff format --check host protocols plugins tests benchmarks max_patches
	$(BIN)/mypy host protocols plugins

clean:
	rm -rf $(VENV) .pytest_cache
