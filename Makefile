# The README's commands. `make test` is also what CI runs (.ci/run).
SWIFT ?= swift

.PHONY: deps build test render clean

deps:
	@scripts/install-deps

build: deps
	$(SWIFT) build

# Offline: renders inventory.example.json for every host into ./render-out (no network).
render: build
	$(SWIFT) run clusterctl render -i inventory.example.json --out render-out --force

test: deps
	$(SWIFT) build --build-tests
	$(SWIFT) test

clean:
	rm -rf .build render-out
