# Two commands do everything on a fresh Debian machine (idempotent):
#   make demo   set up, then crawl the bundled demo portal into archive/
#   make test   set up, then run the linters and the whole test suite
.PHONY: setup demo test lint

setup:
	@bash scripts/bootstrap.sh

demo: setup
	.venv/bin/portal-archive demo

lint: setup
	.venv/bin/ruff check portal_archive spiders pipelines tests bench
	.venv/bin/mypy

test: setup lint
	@bash scripts/run-tests.sh
