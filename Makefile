# Two commands set everything up on a fresh clone: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
QUESTION ?= what did Peskov say about tanks

.PHONY: run test test-slow bench clean

TORCH_CPU_INDEX ?= https://download.pytorch.org/whl/cpu

$(BIN)/qa: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	# torch first, from PyTorch's CPU wheel index (no multi-GB CUDA build); where that index
	# cannot be reached, pip's configured index (or local wheels) serves it instead.
	$(BIN)/pip install --quiet --timeout 15 --retries 1 --index-url $(TORCH_CPU_INDEX) torch \
		|| $(BIN)/pip install --quiet torch
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
