# `make demo` and `make test` set themselves up: a local virtualenv with
# everything they need, and the extension built in release mode into it.
PYTHON ?= python3
VENV := .venv
BIN := $(abspath $(VENV))/bin
DEPS := $(VENV)/.deps-installed
export PYO3_PYTHON := $(BIN)/python
export VIRTUAL_ENV := $(abspath $(VENV))

.PHONY: all build test rust-test lint pytest demo bench clean fuzz

all: build

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(DEPS): $(BIN)/python requirements-dev.txt
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	touch $@

build: $(DEPS)
	$(BIN)/maturin develop --release --quiet
	$(BIN)/python -m pip install --quiet --no-deps ./plugins/vaccine_response

lint: $(DEPS)
	cargo fmt --all --check
	cargo clippy --workspace --all-targets --all-features -- -D warnings
	$(BIN)/ruff check python tests benches plugins
	$(BIN)/ruff format --check python tests benches plugins
	$(BIN)/mypy
	$(BIN)/python -m mypy.stubtest cd38._core

rust-test:
	cargo test --workspace

pytest: build
	$(BIN)/pytest -q

test: build lint rust-test pytest

demo: build
	$(BIN)/cd38 demo

bench: build
	$(BIN)/pytest benches -q --benchmark-enable --benchmark-only
	$(BIN)/python benches/compare_flowkit.py

# Coverage-guided fuzzing, FUZZ_SECONDS per target; not part of `make test`.
# Needs a nightly toolchain and `cargo install cargo-fuzz`. See fuzz/README.md.
FUZZ_SECONDS ?= 60
fuzz: build
	@command -v cargo-fuzz >/dev/null || { echo "make fuzz needs cargo-fuzz: cargo install cargo-fuzz"; exit 2; }
	$(BIN)/python fuzz/make_corpus.py
	mkdir -p fuzz/artifacts/gatingml
	cd fuzz && cargo +nightly fuzz run fcs_read corpus/fcs_read -- -dict=fcs.dict \
		-max_total_time=$(FUZZ_SECONDS) -max_len=65536 -timeout=10 -rss_limit_mb=2048
	$(BIN)/python fuzz/gatingml_fuzz.py fuzz/corpus/gatingml -dict=fuzz/gatingml.dict \
		-max_total_time=$(FUZZ_SECONDS) -timeout=10 -rss_limit_mb=2048 -artifact_prefix=fuzz/artifacts/gatingml/

clean:
	rm -rf $(VENV) target
