# Two commands set everything up on a fresh clone: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
QUESTION ?= what did Peskov say about tanks

.PHONY: run test test-slow bench clean

$(BIN)/qa: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	# torch first, pinned: pip takes the CPU build that lies on this disk, never a CUDA download.
	$(BIN)/pip install --quiet torch==2.13.0
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(BIN)/qa

run: $(BIN)/qa
	$(BIN)/qa index data
	$(BIN)/qa ask "$(QUESTION)"

test: $(BIN)/qa
	$(BIN)/python -m pytest -q

test-slow: $(BIN)/qa
	$(BIN)/python -m pytest -q -m slow

bench: $(BIN)/qa
	$(BIN)/python bench/speed.py
	$(BIN)/qa bench ../shared/corpora/scifact --mode all

clean:
	rm -rf $(VENV) index/*.sqlite* index/*.faiss index/*.json index/encoder
