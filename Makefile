# registra — build and test targets.
GO ?= go

.PHONY: test tools vet unit fmt-check bench

# test installs the foreign tools the suite needs, then vets and runs every
# test with the race detector. Tests of real components never skip when CI=true.
test: tools fmt-check vet unit

tools:
	@./scripts/install-test-tools.sh

fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt needed on:"; echo "$$out"; exit 1; fi

vet:
	$(GO) vet ./...

unit:
	$(GO) test -race -timeout 20m ./...

bench:
	$(GO) test -run '^$$' -bench . -benchmem ./...
