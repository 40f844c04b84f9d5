#!/bin/sh
# run.sh BUILD - every benchmark, printing its figures (see bench/RESULTS.md).
# The PyTorch comparison uses .venv (made by `make venv`) when present.
set -eu
build=${1:-build}
[ $# -gt 0 ] && shift
cd "$(dirname "$0")/.."
echo "== bench/embed: DINOv2 forward pass vs sgemm roofline and PyTorch"
echo "   machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2)"
"$build/bench/embed" "$@"
echo
echo "== bench/search: vector index vs faiss-cpu"
"$build/bench/search" "$@"
echo
echo "== bench/import: dinoseek import of a synthetic USPTO week vs a seed-style Python import"
"$build/bench/import" "$build/dinoseek"
echo
echo "== bench/milvus: Milvus + S3 against the embedded index and blob store"
"$build/bench/milvus" "$build/dinoseek"
echo
echo "== bench/words: search by words at 1M synthetic patents (SQLite FTS5 floor beside)"
"$build/bench/words"
