# The README's commands. `make test` is also what CI runs (.ci/run).
SWIFT ?= swift

.PHONY: deps build test render demo demo-down clean

deps:
	@scripts/install-deps

build: deps
	$(SWIFT) build

# Offline: renders inventory.example.json for every host into ./render-out (no network).
render: build
	$(SWIFT) run clusterctl render -i inventory.example.json --out render-out --force

# A local demo cluster (namespaces, root): plan, apply, verify, and a session made on web1 read on web2.
demo:
	@scripts/demo

demo-down:
	Tests/Cluster/testcluster down --state $${DEMO_STATE:-/tmp/clusterctl-demo}

# --no-parallel: one suite at a time. The integration suites share one namespace cluster (a machine-wide lock)
# and time SSH reconnects against a firewall rollback; on 2 cores, parallel suites starve them.
# scripts/release-smoke runs first so that swift test's summary is the last thing printed.
# The debian12 test hosts' base root and apt mirror: built once per machine (the only step that needs the
# Debian archive), here rather than inside the first test that uses them; a no-op once cached or when not root.
test: deps
	scripts/release-smoke
	@if [ "$$(id -u)" -eq 0 ]; then Tests/Cluster/testcluster cache >/dev/null; fi
	$(SWIFT) build --build-tests
	$(SWIFT) test --no-parallel

clean:
	rm -rf .build render-out
