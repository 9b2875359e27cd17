# Set-up on a fresh machine is part of every target: `make demo` and `make test` need nothing else.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: install demo test bench demo-corpus system-deps clean

$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -c constraints.txt -e '.[dev,hf]'
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/speechsift demo -o out/demo

test: $(STAMP)
	$(PY) -m pytest -q

bench: $(STAMP)
	$(PY) benchmarks/bench_prepare.py

# espeak-ng and sox synthesize the demo corpus (and, later, test speech).
system-deps:
	@command -v espeak-ng >/dev/null && command -v sox >/dev/null || \
		(apt-get update -qq && apt-get install -y -qq espeak-ng sox)

demo-corpus: $(STAMP) system-deps
	$(PY) scripts/make_demo_corpus.py --out examples/demo

clean:
	rm -rf out .pytest_cache
