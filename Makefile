# shakedown: post-repair hardware validation for Proxmox cluster hosts.
# `make run` and `make test` are the two commands the README starts with.

GO        ?= go
BIN       := bin
VERSION   ?= $(shell git describe --always --dirty 2>/dev/null || echo dev)
LDFLAGS   := -s -w -X github.com/shakedown/shakedown/agent/version.Version=$(VERSION)
STATICCHECK_VERSION := v0.8.2
# Integration tests fail instead of skipping when their prerequisites are missing
# and we are root (CI is root): a skipped integration test never counts as a pass.
INTEGRATION := $(if $(filter 0,$(shell id -u)),require,)

.PHONY: all build agent coordinator run test unit lint vet staticcheck deps bench fuzz clean

all: build

build: agent coordinator

# Two executables (docs/architecture.md): the read-only front and the core it
# execs for run/status/action/report. Install them next to each other.
agent:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN)/shakedown-agent ./agent
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN)/shakedown-agent-core ./agent/core

coordinator:
	@if [ -d coordinator ] && ls coordinator/*.go >/dev/null 2>&1; then \
		echo CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN)/shakedown-coordinator ./coordinator; \
		CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN)/shakedown-coordinator ./coordinator; \
	fi

deps:
	@bash scripts/install-deps.sh

# The main job on the embedded default (see README).
run: build
	@bash scripts/run.sh

# Every test: unit tests, integration tests with real tools (root), vet and staticcheck.
test: deps lint
	SHAKEDOWN_INTEGRATION=$(INTEGRATION) $(GO) test -count=1 -timeout 25m ./...

# Unit tests only: no root, no tools, no network.
unit:
	$(GO) test -count=1 -short ./...

lint: vet staticcheck
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

vet:
	$(GO) vet ./...

staticcheck:
	@command -v staticcheck >/dev/null 2>&1 || [ -x "$$($(GO) env GOPATH)/bin/staticcheck" ] || \
		$(GO) install honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION)
	@PATH="$$($(GO) env GOPATH)/bin:$$PATH" staticcheck ./...

# Speed and memory against what a user would otherwise run (prints ratios).
bench: build
	@bash scripts/bench.sh

# Short fuzzing pass over every fuzz target (FUZZTIME=30s per target by default).
fuzz:
	@bash scripts/fuzz.sh

clean:
	rm -rf $(BIN)
