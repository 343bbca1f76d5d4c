# gdb-qemu-threads: `make demo` shows it on a real QEMU; `make test` runs the tests.
# Both install what is missing first (see scripts/setup.sh).
GDB ?= gdb
PYTHON ?= python3
export GDB PYTHON

.PHONY: install demo lint test test-fast bench clean

install:
	scripts/setup.sh all

demo: install
	.venv/bin/python scripts/demo.py

# The linter, then the type checker (both configured in pyproject.toml).
lint: install
	.venv/bin/python -m ruff check gdb_qemu_threads tests bench scripts
	.venv/bin/python -m mypy gdb_qemu_threads

NEWEST_GDB := $(CURDIR)/.venv-gdb-newest/bin/gdb

# The whole suite under the distribution's gdb, then under the newest gdb (from PyPI).
test: install
	scripts/setup.sh gdb-newest
	@echo "== tests under $$($(GDB) --version | head -1)"
	.venv/bin/python -m pytest -q -p no:cacheprovider --timeout 600 tests
	@echo "== tests under $$($(NEWEST_GDB) --version | head -1)"
	GDB=$(NEWEST_GDB) .venv/bin/python -m pytest -q -p no:cacheprovider --timeout 600 tests

# The pure tests only: no gdb, no QEMU, a few seconds.
test-fast: install
	.venv/bin/python -m pytest -q -p no:cacheprovider tests/unit

bench: install
	@for b in bench/bench_*.py; do echo "== $$b"; .venv/bin/python $$b || exit 1; done

clean:
	rm -rf .venv .venv-gdb-newest .deps tests/.build .pytest_cache .hypothesis .benchmarks
	find . -name __pycache__ -prune -exec rm -rf {} +
