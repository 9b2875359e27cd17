# Set-up on a fresh machine is part of every target: `make demo` and `make test` need nothing else.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: install demo test test-clients bench demo-corpus system-deps client-system-deps clean

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
# test-clients: FFmpeg, through which torchcodec decodes audio for LLaMA-Factory's torchaudio.load.
CLIENT_SYSTEM_PACKAGES := ffmpeg

define apt_install
	@missing=""; for p in $(1); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
		if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; \
		else echo "install these Debian packages first:$$missing" >&2; exit 1; fi; \
	fi
endef

system-deps:
	$(call apt_install,$(SYSTEM_PACKAGES))

client-system-deps:
	$(call apt_install,$(CLIENT_SYSTEM_PACKAGES))

# `make test-clients`: the exports of a hostile run (tests/hostile_release.py: trainer tokens in the
# transcripts and LLM answers, every task family, OUT moved; and a self-contained copy) read by the
# trainers' own data loading, each in its own virtualenv under .clients/ (git-ignored), with a tiny
# Qwen2-Audio processor built on the spot (tests/clients/). Slow (minutes), so not part of `make test`.
CLIENTS := .clients
LLAMAFACTORY_VERSION := 0.9.5
SWIFT_VERSION := 4.6.0
# The torchcodec release that loads beside the local CPU torch 2.13 (0.14 and later want CUDA libraries).
TORCHCODEC_VERSION := 0.13.0

# PyPI's torchvision and torchaudio are CUDA builds whose compiled operators cannot load beside the
# CPU torch (torchvision's break `import transformers`). LLaMA-Factory's audio path needs neither:
# torchaudio.load reads through torchcodec and resample is plain torch, so torchvision goes and
# torchaudio runs without its CUDA extension (which it treats as absent when its files are).
$(CLIENTS)/llamafactory/.installed: constraints.txt
	rm -rf $(CLIENTS)/llamafactory
	$(PYTHON) -m venv $(CLIENTS)/llamafactory
	$(CLIENTS)/llamafactory/bin/python -m pip install --quiet -c constraints.txt \
		llamafactory==$(LLAMAFACTORY_VERSION) torchcodec==$(TORCHCODEC_VERSION)
	$(CLIENTS)/llamafactory/bin/python -m pip uninstall --quiet -y torchvision
	rm -f $(CLIENTS)/llamafactory/lib/python*/site-packages/torchaudio/lib/*.so
	touch $@

# librosa: ms-swift's audio loader, which its own requirements leave out
$(CLIENTS)/swift/.installed: constraints.txt
	rm -rf $(CLIENTS)/swift
	$(PYTHON) -m venv $(CLIENTS)/swift
	$(CLIENTS)/swift/bin/python -m pip install --quiet -c constraints.txt ms-swift==$(SWIFT_VERSION) librosa soundfile
	touch $@

test-clients: $(STAMP) client-system-deps $(CLIENTS)/llamafactory/.installed $(CLIENTS)/swift/.installed
	@mkdir -p $(CLIENTS)/logs
	$(PY) tests/clients/make_release.py $(CLIENTS)/releases > $(CLIENTS)/releases.txt
	@status=0; for release in $$(cat $(CLIENTS)/releases.txt); do for trainer in llamafactory swift; do \
		log=$(CLIENTS)/logs/$$trainer-$$(basename $$(dirname $$release)).log; \
		echo "$$trainer on $$release (log: $$log)"; \
		if $(CLIENTS)/$$trainer/bin/python tests/clients/check_$$trainer.py $$release > $$log 2>&1; \
		then grep '^summary:' $$log; \
		else status=1; grep -E '^(summary:|PROBLEM)' $$log || tail -n 30 $$log; fi; \
	done; done; exit $$status

demo-corpus: $(STAMP) system-deps
	$(PY) scripts/make_demo_corpus.py --out examples/demo

clean:
	rm -rf out .pytest_cache $(CLIENTS)/releases $(CLIENTS)/logs
