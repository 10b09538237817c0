# The two commands a newcomer types (see README.md):
#   make demo   set up .venv, then run the main job on the embedded default
#   make test   set up .venv, then run the whole test suite
.PHONY: setup demo test lint bench
setup:
	@bash scripts/setup.sh

demo: setup
	.venv/bin/sparft demo

test: setup
	.venv/bin/python -m pytest -q

lint: setup
	.venv/bin/ruff check .
