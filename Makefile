# The two commands a new user needs: `make dev` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cksum pyproject.toml | cut -d' ' -f1)

.PHONY: dev test bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	rm -f $(VENV)/.installed-* && touch $(STAMP)

dev: $(STAMP)  ## set up and run everything on 127.0.0.1:8000 (embedded PostgreSQL under ./var)
	$(BIN)/ledgerdesk dev

test: $(STAMP)  ## run the whole test suite
	$(BIN)/python -m pytest -q

bench: $(STAMP)  ## write-path benchmark (prints JSON)
	$(BIN)/python -m bench.commands

clean:
	rm -rf $(VENV) var
