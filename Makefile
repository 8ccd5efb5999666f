# Vigil: every developer task is a target here.
#   make demo      sandbox topology + all services + the topology tree (the main job)
#   make test      every test of every module, on real MariaDB, PostgreSQL and etcd
#   make generate  regenerate protobuf, gRPC, gateway and OpenAPI code

SHELL := /bin/bash
GO ?= go
# Every module of the workspace, as package patterns.
MODULES := $(shell $(GO) list -m -f '{{.Path}}/...')
TOOLS := bin/buf bin/protoc-gen-go bin/protoc-gen-go-grpc bin/protoc-gen-grpc-gateway bin/protoc-gen-openapiv2 bin/grpcurl

.PHONY: all build demo deps test test-short stress bench generate check-generated lint vet check-versions tools clean

all: build

build:
	$(GO) build ./cmd/... $(addsuffix /cmd/...,$(addprefix ./services/,discovery analyzer recovery gateway))

deps:
	scripts/deps.sh

demo: deps
	$(GO) run ./cmd/vigil demo

test: deps
	$(GO) test -count=1 -timeout 20m $(MODULES)

# Rerun the end-to-end suite N times (default 20) to find flaky tests; RUN
# narrows it like go test -run: make stress N=5 RUN=TestDetect
stress: deps
	GO='$(GO)' scripts/stress.sh '$(or $(N),20)' '$(RUN)'

bench: deps
	$(GO) run ./cmd/vigil bench probe
	$(GO) run ./cmd/vigil bench detect --runs 20
	$(GO) run ./cmd/vigil bench failover --runs 20
	$(GO) run ./cmd/vigil bench takeover --runs 20
	$(GO) run ./cmd/vigil bench fleet

# Code generation uses tools pinned in tools/go.mod, built into bin/.
tools: $(TOOLS)

$(TOOLS) &: tools/go.mod tools/go.sum
	cd tools && GOWORK=off $(GO) build -o ../bin/ tool

generate: tools
	rm -f proto/vigil/*/v1/*.go proto/openapi/vigil.swagger.json
	bin/buf generate

check-generated: generate
	git diff --exit-code -- proto
	@test -z "$$(git status --porcelain -- proto)" || { git status --porcelain -- proto; echo "generated code is not committed"; exit 1; }

lint: tools vet
	bin/buf lint

vet:
	$(GO) vet $(MODULES)

# grpc, protobuf, the etcd client and pgx must have one version across modules.
check-versions:
	scripts/check-versions.sh

clean:
	rm -rf bin
