# The calligraphy cell. `make demo` writes in simulation; `make test` runs the whole suite.
# Both set up what is missing first (scripts/setup.sh is idempotent and fast when nothing changed).
SHELL := /bin/bash
OUT ?= out/demo
TEXT ?= 永

.PHONY: setup demo test lint bench
setup:
	@bash scripts/setup.sh

demo: setup
	@source env.sh && bash scripts/demo.sh "$(TEXT)" "$(OUT)"

test: setup
	@bash scripts/test.sh

lint: setup
	@source env.sh && ruff check src test launch && ruff format --check src test launch

bench: setup
	@source env.sh && bash scripts/bench.sh
