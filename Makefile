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

test: $(STAMP) system-deps
	$(PY) -m pytest -q

bench: $(STAMP)
	$(PY) benchmarks/bench_prepare.py

# Debian packages the tests use: espeak-ng and sox synthesize speech with known properties, lame
# encodes it as MP3 at known bitrates (distortion tests), chromium opens the HTML report,
# fonts-dejavu-core makes its screenshots readable.
SYSTEM_PACKAGES := espeak-ng sox lame chromium fonts-dejavu-core
system-deps:
	@missing=""; for p in $(SYSTEM_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
		if [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq $$missing; \
		else echo "install these Debian packages first:$$missing" >&2; exit 1; fi; \
	fi

demo-corpus: $(STAMP) system-deps
	$(PY) scripts/make_demo_corpus.py --out examples/demo

clean:
	rm -rf out .pytest_cache
