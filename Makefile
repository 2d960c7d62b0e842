# The two commands a new user runs (see README.md): `make demo` and `make test`.
# Each first runs scripts/setup.sh, which installs only what is missing.
SHELL := /bin/bash
VENV := .venv/bin

.PHONY: setup demo test test-slow lint lock

setup:
	@scripts/setup.sh

demo: setup
	$(VENV)/sealdesk demo

test: setup lint
	$(VENV)/pytest

test-slow: setup
	$(VENV)/pytest -m slow

lint: setup
	$(VENV)/ruff check .
	$(VENV)/ruff format --check .
	$(VENV)/mypy

# Re-resolve requirements/*.in into requirements/lock.txt (needs the package index).
lock:
	rm -rf .lockenv && python3 -m venv .lockenv
	.lockenv/bin/pip install -q pip==26.3
	.lockenv/bin/pip install -q -r requirements/main.in -r requirements/dev.in
	{ echo "# Exact versions installed into .venv by scripts/setup.sh. Regenerate with 'make lock'."; \
	  .lockenv/bin/pip freeze --exclude-editable | grep -vE '^(pip|setuptools|wheel)=='; } > requirements/lock.txt
	rm -rf .lockenv
