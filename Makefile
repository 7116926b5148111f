# The README's commands. `make test` is also what CI runs (.ci/run).
SWIFT ?= swift

.PHONY: deps build test fuzz render demo demo-down clean release completions man install uninstall

# make install PREFIX=… [DESTDIR=…]: the release binary and its templates bundle go together into
# PREFIX/lib/clusterctl (SwiftPM's Bundle.module looks for the bundle next to the executable, symlinks
# resolved) and PREFIX/bin/clusterctl links to it; completions and the man page go where bash-completion,
# zsh, fish and man look under PREFIX/share.
PREFIX ?= /usr/local
DESTDIR ?=
# Extra flags for every swift command. The install test passes --ignore-lock: it runs inside `swift test`,
# which holds .build's lock for its whole run. (Flags that move the build directory would break RELEASE_DIR.)
SWIFT_FLAGS ?=
RELEASE_DIR = .build/release
DIST = .build/dist
# The man page's date: the last commit's, so the same commit always gives the same page.
MAN_DATE ?= $(shell git log -1 --format=%cs 2>/dev/null || date +%Y-%m-%d)
root = $(DESTDIR)$(PREFIX)

deps:
	@scripts/install-deps

build: deps
	$(SWIFT) build

# make fuzz FUZZ_SECONDS=600: a longer run of the same targets.
fuzz:
	SWIFT=$(SWIFT) scripts/fuzz $(FUZZ_SECONDS)

# Offline: renders inventory.example.json for every host into ./render-out (no network).
render: build
	$(SWIFT) run clusterctl render -i inventory.example.json --out render-out --force

# A local demo cluster (namespaces, root): plan, apply, verify, and a session made on web1 read on web2.
# PROFILE=el5 (default), debian12 (real Debian 12 hosts booted with systemd) or mixed (EL5 memcache, Debian web).
PROFILE ?= el5
demo:
	@PROFILE=$(PROFILE) scripts/demo

demo-down:
	Tests/Cluster/testcluster down --state $${DEMO_STATE:-/tmp/clusterctl-demo}

# --no-parallel: one suite at a time. The integration suites share one namespace cluster (a machine-wide lock)
# and time SSH reconnects against a firewall rollback; on 2 cores, parallel suites starve them.
# scripts/release-smoke runs first so that swift test's summary is the last thing printed.
# The debian12 test hosts' base root and apt mirror: built once per machine (the only step that needs the
# Debian archive), here rather than inside the first test that uses them; a no-op once cached or when not root.
# scripts/fuzz: the libFuzzer targets of Fuzz/ for FUZZ_SECONDS each (README "Fuzzing"); a finding fails the run.
FUZZ_SECONDS ?= 60
test: deps
	scripts/release-smoke
	SWIFT=$(SWIFT) scripts/fuzz $(FUZZ_SECONDS)
	@if [ "$$(id -u)" -eq 0 ]; then Tests/Cluster/testcluster cache >/dev/null; fi
	$(SWIFT) build --build-tests
	$(SWIFT) test --no-parallel

release:
	$(SWIFT) build $(SWIFT_FLAGS) -c release --product clusterctl

# Completions and the man page come from the argument definitions (ArgumentParser), so they cannot drift
# from --help.
completions: release
	@mkdir -p $(DIST)
	$(RELEASE_DIR)/clusterctl --generate-completion-script bash > $(DIST)/clusterctl.bash
	$(RELEASE_DIR)/clusterctl --generate-completion-script zsh > $(DIST)/_clusterctl
	$(RELEASE_DIR)/clusterctl --generate-completion-script fish > $(DIST)/clusterctl.fish

# swift-argument-parser's generate-manual plugin: builds the release products and writes an mdoc page.
man: release
	$(SWIFT) package $(SWIFT_FLAGS) plugin generate-manual --date $(MAN_DATE)
	@mkdir -p $(DIST)
	cp .build/plugins/GenerateManual/outputs/clusterctl/clusterctl.1 $(DIST)/clusterctl.1

install: release completions man
	install -d $(root)/bin $(root)/lib/clusterctl $(root)/share/man/man1 \
	  $(root)/share/bash-completion/completions $(root)/share/zsh/site-functions $(root)/share/fish/vendor_completions.d
	install -m 755 $(RELEASE_DIR)/clusterctl $(root)/lib/clusterctl/clusterctl
	rm -rf $(root)/lib/clusterctl/clusterctl_ClusterKit.resources
	cp -R $(RELEASE_DIR)/clusterctl_ClusterKit.resources $(root)/lib/clusterctl/
	ln -sfn ../lib/clusterctl/clusterctl $(root)/bin/clusterctl
	install -m 644 $(DIST)/clusterctl.bash $(root)/share/bash-completion/completions/clusterctl
	install -m 644 $(DIST)/_clusterctl $(root)/share/zsh/site-functions/_clusterctl
	install -m 644 $(DIST)/clusterctl.fish $(root)/share/fish/vendor_completions.d/clusterctl.fish
	install -m 644 $(DIST)/clusterctl.1 $(root)/share/man/man1/clusterctl.1
	@echo "Installed into $(root): $(PREFIX)/bin/clusterctl --version; man clusterctl; completions for bash, zsh, fish."

uninstall:
	rm -f $(root)/bin/clusterctl $(root)/share/man/man1/clusterctl.1 \
	  $(root)/share/bash-completion/completions/clusterctl $(root)/share/zsh/site-functions/_clusterctl \
	  $(root)/share/fish/vendor_completions.d/clusterctl.fish
	rm -rf $(root)/lib/clusterctl

clean:
	rm -rf .build render-out
