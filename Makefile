# Two entry points (see README): `make run` and `make test`.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
TEST_STAMP := $(VENV)/.installed-test
APT_PKGS := chromium fonts-noto-cjk openssh-server rsync ffmpeg

.PHONY: run test bench bench-all bench-scaling bench-peers peer-packages lint clean system-packages screenshots

$(BIN)/python:
	$(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e '.[publish]'
	touch $@

$(TEST_STAMP): pyproject.toml $(STAMP)
	$(BIN)/pip install -q -e '.[publish,test]'
	touch $@

run: $(STAMP)
	$(BIN)/python site_src/tools/make_sample_media.py
	$(BIN)/zhuanti build
	$(BIN)/zhuanti check
	@echo "Output: $(CURDIR)/public/  — to see it with working links, run: $(BIN)/zhuanti serve  (then open http://127.0.0.1:8000/)"

# System packages the real-part tests use (browser, SSH server). Installed when run as root;
# otherwise the tests that need them report what is missing.
system-packages:
	@if [ "$$(id -u)" = "0" ] && command -v apt-get >/dev/null; then \
	  missing=""; for p in $(APT_PKGS); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	  if [ -n "$$missing" ]; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	  fi; \
	fi

test: $(TEST_STAMP) system-packages
	$(BIN)/ruff check builder media_pipeline tests bench site_src/tools
	$(BIN)/python -m pytest -n 2 -q tests

# Benchmarks (bench/run.py, bench/peers.py): PAGES is the corpus size (several: PAGES="1000 10000"),
# REPEAT the runs per step. The corpora are generated once and cached under bench/corpus/.
PAGES ?= 10000
REPEAT ?= 3
BENCH_STAMP := $(VENV)/.installed-bench
PEERS_VENV := bench/.peers-venv
PEERS_NODE := bench/.peers-node
PEER_APT := hugo jekyll ruby-html-proofer linkchecker

$(BENCH_STAMP): pyproject.toml $(STAMP)
	$(BIN)/pip install -q -e '.[publish,bench]'
	touch $@

bench: $(BENCH_STAMP)
	$(BIN)/python bench/run.py --pages $(PAGES) --repeat $(REPEAT)

# Scaling table (bench/scaling.py): cold builds of the corpus at SCALE_PAGES pages and of one data
# column at SCALE_ROWS CSV rows, CPU time and peak memory per page; corpora cached in SCALE_CORPUS
# (~1.5 GB for 100,000 pages with their output: a folder under /tmp on a small disk).
SCALE_PAGES ?= 1000 10000 100000
SCALE_ROWS ?= 10000 100000
SCALE_CORPUS ?= bench/corpus
bench-scaling: $(BENCH_STAMP)
	$(BIN)/python bench/scaling.py --pages $(SCALE_PAGES) --rows $(SCALE_ROWS) --corpus $(SCALE_CORPUS)

# The older, narrower benchmarks too (media, checks against htmlproofer).
bench-all: bench
	@for f in bench/media_*.py bench/checks*.py; do [ -f "$$f" ] && $(BIN)/python "$$f" || echo "FAILED: $$f"; done

$(PEERS_VENV)/.installed:
	$(PY) -m venv $(PEERS_VENV)
	$(PEERS_VENV)/bin/pip install -q pelican markdown mkdocs
	touch $@

$(PEERS_NODE)/.installed:
	mkdir -p $(PEERS_NODE)
	npm install --prefix $(PEERS_NODE) --no-audit --no-fund @11ty/eleventy
	touch $@

peer-packages:
	@if [ "$$(id -u)" = "0" ] && command -v apt-get >/dev/null; then \
	  missing=""; for p in $(PEER_APT); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	  if [ -n "$$missing" ]; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	  fi; \
	else echo "not root: install $(PEER_APT) yourself (Debian packages); missing ones are skipped"; fi

bench-peers: $(BENCH_STAMP) $(PEERS_VENV)/.installed $(PEERS_NODE)/.installed peer-packages
	$(BIN)/python bench/peers.py --pages $(PAGES) --repeat $(REPEAT)

# The sample site's page types at 360 px and 1366 px, in bench/out/screenshots/ (see docs/browser-checks.md).
screenshots: $(STAMP)
	$(BIN)/python site_src/tools/make_sample_media.py
	$(BIN)/zhuanti build
	$(BIN)/python bench/browser.py screenshots --out bench/out/screenshots

lint: $(TEST_STAMP)
	$(BIN)/ruff check builder media_pipeline tests bench site_src/tools

clean:
	rm -rf public .zhuanti-cache bench/out
