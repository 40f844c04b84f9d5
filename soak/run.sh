#!/bin/sh
# run.sh BUILD [ASAN_BUILD] - the load and soak series (`make soak`; figures
# in docs/testing.md, "Load and soak"). Each step exits non-zero on a
# failure, and set -e stops the series there.
#   SOAK_SECONDS  length of the timed mixed load (default 180)
#   SOAK_CLIENTS  concurrent clients (default 8)
#   SOAK_REQUESTS requests of the LeakSanitizer run (default 10000)
#   SOAK_KILLS    SIGKILLs of the kill-and-resume import series (default 20)
set -eu
build=${1:-build}
asan=${2:-build/asan}
cd "$(dirname "$0")/.."
echo "== machine: $(nproc) cores,$(lscpu | grep 'Model name' | cut -d: -f2 | tr -s ' ')"
echo "== soak/load: ${SOAK_SECONDS:-180} s of mixed requests, $build/dinoseek"
# A minute of warm-up first: RSS is judged from there (flat: < 10% more at
# the end), and the allocator needs a while to hold all it will.
"$build/soak/load" --bin "$build/dinoseek" --seconds "${SOAK_SECONDS:-180}" --warmup 60 \
    --clients "${SOAK_CLIENTS:-8}"
echo
echo "== soak/load: ${SOAK_REQUESTS:-10000} requests to $asan/dinoseek (ASan + UBSan), LeakSanitizer at exit"
# The data is prepared with the optimised build (the same files, faster);
# only the server runs sanitized. A leak makes LeakSanitizer print its
# report and the server exit non-zero: both fail the run. Uploads are 1% of
# the requests here (the model takes seconds per image under ASan); every
# route is still taken hundreds of times.
ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1} "$build/soak/load" --bin "$asan/dinoseek" \
    --prep-bin "$build/dinoseek" --requests "${SOAK_REQUESTS:-10000}" --warmup 0 \
    --search-percent 1 --clients "${SOAK_CLIENTS:-8}" --sanitized
echo
echo "== soak/kill_import: ${SOAK_KILLS:-20} SIGKILLs of dinoseek import at random moments, each resumed"
"$build/soak/kill_import" --bin "$build/dinoseek" --kills "${SOAK_KILLS:-20}"
