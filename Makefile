# The two commands a newcomer types (see README.md):
#   make demo   set up .venv, then run the main job on the embedded default
#   make test   set up .venv, then run the whole test suite
.PHONY: setup demo test test-fast lint bench
setup:
	@bash scripts/setup.sh

demo: setup
	.venv/bin/sparft demo

test: setup
	.venv/bin/python -m pytest -q

# The quick loop while developing: everything but the real-model (slow) and the
# multi-seed statistical tests.
test-fast: setup
	.venv/bin/python -m pytest -q -m "not slow and not statistical"

lint: setup
	.venv/bin/ruff check .
