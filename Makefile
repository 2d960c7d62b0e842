# Shortcuts for people who like make; the README's commands are scripts/demo and scripts/test,
# which need nothing installed first (a fresh Debian has no make).
.PHONY: setup demo test test-slow hardening lint lock messages

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

# Gather the strings a person reads into the catalogues (pipeline/locale): new ones come in
# untranslated, gone ones leave; tests/test_messages.py fails until each has its English.
messages: setup
	mkdir -p build
	.venv/bin/pybabel -q extract -F babel.cfg -k say -k N_ -k NP_:1c,2 --no-location --sort-output \
	  --omit-header -o build/sealdesk.pot .
	.venv/bin/pybabel -q update -i build/sealdesk.pot -d pipeline/locale -D sealdesk -l en \
	  --no-fuzzy-matching --ignore-obsolete --ignore-pot-creation-date --width 100
