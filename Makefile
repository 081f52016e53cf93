# Every target creates .venv and installs the project into it when needed, so on a
# fresh machine each one is the only command a newcomer types.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
NATIVE := $(VENV)/.native
SOURCES := $(shell find kubeactors -name '*.py')

# 1 (the default): compile the hot modules setup.py lists to C with mypyc, next to
# their sources; 0: run pure Python (no C compiler needed).
export KUBEACTORS_COMPILE ?= 1

NODES ?= 1000
PODS ?= 10000

.PHONY: run test lint bench native proto clean

$(STAMP): pyproject.toml
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	KUBEACTORS_COMPILE=0 $(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

# Rebuilt whenever a source changes: a compiled module older than its source would
# run old code (the test suite refuses to start then). With KUBEACTORS_COMPILE=0 the
# compiled modules are removed instead.
$(NATIVE): $(STAMP) setup.py $(SOURCES)
	find kubeactors -name '*.so' -delete
	if [ "$(KUBEACTORS_COMPILE)" = 1 ]; then $(BIN)/python setup.py --quiet build_ext --inplace; fi
	touch $(NATIVE)

native: $(NATIVE)

# An embedded cluster (kubelets included) from creation to Running, then upstream's
# SchedulingBasic workload on 5000 nodes through the API server and the store.
run: $(NATIVE)
	$(BIN)/kubeactors run --nodes $(NODES) --pods $(PODS)
	$(BIN)/python -m benchmarks.scheduler --workload SchedulingBasic/5000Nodes_10000Pods

test: $(NATIVE)
	$(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check kubeactors tests benchmarks
	$(BIN)/ruff format --check kubeactors tests benchmarks
	$(BIN)/mypy

bench: $(NATIVE)
	mkdir -p benchmarks/results
	$(BIN)/python -m benchmarks --output benchmarks/results/latest.jsonl

# Regenerate the etcd v3 gRPC code and the Kubernetes protobuf messages from proto/
# (the generated files are committed).
proto: $(STAMP)
	$(BIN)/python -m grpc_tools.protoc -Ikubeactors/etcd/_proto=proto --python_out=. --pyi_out=. --grpc_python_out=. kubeactors/etcd/_proto/kv.proto kubeactors/etcd/_proto/rpc.proto
	rm -f kubeactors/etcd/_proto/kv_pb2_grpc.py
	$(BIN)/python -m grpc_tools.protoc -Ikubeactors/http/_proto=proto --python_out=. --pyi_out=. kubeactors/http/_proto/kubernetes.proto

clean:
	rm -rf $(VENV) build .pytest_cache .mypy_cache .ruff_cache
	find kubeactors -name '*.so' -delete
