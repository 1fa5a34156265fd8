# Concord — the two set-up commands: `make run` (the app with demo data on SQLite) and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat setup.cfg pyproject.toml | cksum | cut -d' ' -f1)

.PHONY: run test install bench screenshots frontend clean

$(STAMP): setup.cfg pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

install: $(STAMP)

run: install
	$(BIN)/concord init-db
	$(BIN)/concord deploy processes forms
	$(BIN)/concord demo-seed $(if $(CONCORD_DEMO_PASSWORD),--password "$(CONCORD_DEMO_PASSWORD)")
	$(BIN)/concord serve

test: install
	$(BIN)/python -m pytest $(PYTEST_ARGS)

bench: install
	$(BIN)/python bench/lifecycle.py

# The designer workbench's editors (bpmn-js, dmn-js) from the pinned lock; the output is committed.
frontend:
	cd frontend && npm ci --no-audit --no-fund --ignore-scripts && node build.mjs

screenshots: install
	$(BIN)/python tools/screenshots.py

clean:
	rm -rf $(VENV) instance *.egg-info
