# Shortcuts for people who like make; the README's commands are scripts/demo and scripts/test,
# which need nothing installed first (a fresh Debian has no make).
.PHONY: setup demo test test-slow hardening lint lock

setup:
	scripts/setup.sh

demo:
	scripts/demo

test:
	scripts/test

test-slow:
	scripts/test -m slow

hardening:
	scripts/hardening

lint: setup
	.venv/bin/ruff check .
	.venv/bin/ruff format --check .
	.venv/bin/mypy

# Re-resolve requirements/*.in into requirements/lock.txt (needs the package index).
lock:
	rm -rf .lockenv && python3 -m venv .lockenv
	.lockenv/bin/pip install -q pip==26.3
	.lockenv/bin/pip install -q -r requirements/main.in -r requirements/dev.in
	{ echo "# Exact versions installed into .venv by scripts/setup.sh. Regenerate with 'make lock'."; \
	  .lockenv/bin/pip freeze --exclude-editable | grep -vE '^(pip|setuptools|wheel)=='; } > requirements/lock.txt
	rm -rf .lockenv
