# `make demo` and `make test` set themselves up: a local virtualenv with
# everything they need, and the extension built in release mode into it.
PYTHON ?= python3
VENV := .venv
BIN := $(abspath $(VENV))/bin
DEPS := $(VENV)/.deps-installed
export PYO3_PYTHON := $(BIN)/python
export VIRTUAL_ENV := $(abspath $(VENV))

.PHONY: all build test rust-test lint pytest demo bench clean

all: build

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(DEPS): $(BIN)/python requirements-dev.txt
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	touch $@

build: $(DEPS)
	$(BIN)/maturin develop --release --quiet

lint: $(DEPS)
	cargo fmt --all --check
	cargo clippy --workspace --all-targets --all-features -- -D warnings
	$(BIN)/ruff check python tests benches
	$(BIN)/ruff format --check python tests benches
	$(BIN)/mypy
	$(BIN)/python -m mypy.stubtest cd38._core

rust-test:
	cargo test --workspace

pytest: build
	$(BIN)/pytest -q

test: build lint rust-test pytest

demo: build
	$(BIN)/python -m cd38.demo

bench: build
	$(BIN)/pytest benches -q --benchmark-enable --benchmark-only

clean:
	rm -rf $(VENV) target
