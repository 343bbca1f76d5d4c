# gdb-qemu-threads: `make demo` shows it on a real QEMU; `make test` runs the tests.
# Each installs what it is missing first, and only that (see scripts/setup.sh).
GDB ?= gdb
PYTHON ?= python3
export GDB PYTHON

.PHONY: install demo lint test test-fast bench clean

# What the extension needs inside gdb: pygments and tabulate for the Python gdb embeds.
install:
	scripts/setup.sh extension

demo:
	scripts/setup.sh demo
	$(PYTHON) scripts/demo.py

# The linter, then the type checker (both configured in pyproject.toml).
lint:
	scripts/setup.sh venv
	.venv/bin/python -m ruff check gdb_qemu_threads tests bench scripts
	.venv/bin/python -m mypy gdb_qemu_threads

NEWEST_GDB := $(CURDIR)/.venv-gdb-newest/bin/gdb

# The whole suite under the distribution's gdb, then under the newest gdb (from PyPI).
test:
	scripts/setup.sh test
	@echo "== tests under $$($(GDB) --version | head -1)"
	.venv/bin/python -m pytest -q -p no:cacheprovider --timeout 600 tests
	@echo "== tests under $$($(NEWEST_GDB) --version | head -1)"
	GDB=$(NEWEST_GDB) .venv/bin/python -m pytest -q -p no:cacheprovider --timeout 600 tests

# The pure tests only: no gdb, no QEMU, a few seconds.
test-fast:
	scripts/setup.sh venv
	.venv/bin/python -m pytest -q -p no:cacheprovider tests/unit

bench:
	scripts/setup.sh test
	@for b in bench/bench_*.py; do echo "== $$b"; .venv/bin/python $$b || exit 1; done

clean:
	rm -rf .venv .venv-gdb-newest .qemu-newest .deps tests/.build .pytest_cache .hypothesis .benchmarks
	find . -name __pycache__ -prune -exec rm -rf {} +
