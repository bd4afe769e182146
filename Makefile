# vidseek: every target sets itself up first (`make setup` is idempotent).
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
COLLECTION ?= vidseek-collection
VIDEOS ?=
Q ?= a dog rides a skateboard
TOP ?= 5
SHARED ?= ../shared/data
HOST ?= 127.0.0.1
PORT ?= 8765
export VIDSEEK_COLLECTION := $(COLLECTION)
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
STAMP := $(VENV)/.vidseek-setup

.PHONY: setup demo test test-fast lint bench bench-serve extract index search status serve eval-real clean

setup: $(STAMP)

$(STAMP): pyproject.toml tools/setup.sh
	PYTHON=$(PYTHON) VENV=$(VENV) bash tools/setup.sh
	touch $(STAMP)

demo: setup
	PATH=$(CURDIR)/$(BIN):$$PATH bash tools/demo.sh

test: setup
	$(BIN)/python -m pytest -q || test $$? -eq 5  # pytest exits 5 when nothing was collected

test-fast: setup
	$(BIN)/python -m pytest -q -m "not slow and not real"

lint: setup
	$(BIN)/ruff check vidseek tests bench tools
	$(BIN)/mypy vidseek

bench: setup
	$(BIN)/python bench/decode.py
	$(BIN)/python bench/experts.py
	$(BIN)/python bench/search.py --sizes 1000,100000
	$(BIN)/python bench/train.py
	$(BIN)/python bench/localization.py

extract: setup
	@test -n "$(VIDEOS)" || { echo "usage: make extract VIDEOS='a.mp4 dir/' [COLLECTION=dir]"; exit 2; }
	$(BIN)/vidseek extract $(VIDEOS) --collection $(COLLECTION)

index: setup
	$(BIN)/vidseek index --collection $(COLLECTION)

search: setup
	$(BIN)/vidseek search "$(Q)" --collection $(COLLECTION) --top $(TOP)

status: setup
	$(BIN)/vidseek status --collection $(COLLECTION)

serve: setup
	$(BIN)/vidseek serve --collection $(COLLECTION) --host $(HOST) --port $(PORT)

bench-serve: setup
	$(BIN)/python bench/serve.py

eval-real: setup
	PATH=$(CURDIR)/$(BIN):$$PATH SHARED=$(SHARED) bash tools/eval_real.sh

clean:
	rm -rf $(COLLECTION) out/demo out/eval-real
