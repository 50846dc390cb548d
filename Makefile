# Two commands on a fresh machine: `make demo` and `make test`.
# Both create .venv when missing and install everything pinned in constraints.txt.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.edgeforge-installed
PYTEST_ARGS ?=

.PHONY: setup demo test test-slow lint clean

$(STAMP): pyproject.toml setup.py constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	# torch first and pinned: the CPU wheel on this machine (a bare `torch` pulls a CUDA build).
	$(BIN)/pip install -q -c constraints.txt torch==2.13.0
	$(BIN)/pip install -q -c constraints.txt -e '.[dev]'
	# Icarus is the second simulator; its tests skip with a reason where it cannot be installed.
	command -v iverilog >/dev/null || { apt-get update -qq && apt-get install -y -qq iverilog; } \
		|| echo "note: iverilog not installed; Icarus tests will be skipped"
	touch $(STAMP)

setup: $(STAMP)

demo: $(STAMP)
	$(BIN)/edgeforge demo

test: $(STAMP)
	$(BIN)/pytest $(PYTEST_ARGS)

test-slow: $(STAMP)
	$(BIN)/pytest --slow $(PYTEST_ARGS)

clean:
	rm -rf rtl_out/*/ .pytest_cache build *.egg-info
