#!/bin/sh
# run.sh SECONDS [TARGET...] - build every fuzz target (or only the TARGETs
# named, e.g. s3_xml_fuzzer) with clang's libFuzzer (+ ASan and UBSan) and
# run each for SECONDS, starting from its corpus in fuzz/corpus/.
# New interesting inputs go to build/fuzz-out/<target>/ (promote the useful
# ones into fuzz/corpus/ by hand); a crash stops the run with its input saved.
set -eu
seconds=${1:-60}
[ $# -gt 0 ] && shift
cd "$(dirname "$0")/.."
for want in "$@"; do
    [ -f "fuzz/$want.c" ] || { echo "run.sh: no fuzz target fuzz/$want.c" >&2; exit 2; }
done
out=build/fuzz-libfuzzer
failed=
mkdir -p "$out"
# No OpenMP here: clang would need its own runtime, and fuzzing wants one thread.
make --no-print-directory CC=clang OPENMP= BUILD="$out" SANITIZE=1 \
    CFLAGS_EXTRA=-fsanitize=fuzzer-no-link "$out/libdinoseek.a"
for src in fuzz/*_fuzzer.c; do
    name=$(basename "$src" .c)
    if [ $# -gt 0 ]; then
        case " $* " in *" $name "*) ;; *) continue ;; esac
    fi
    echo "== $name: building"
    clang -std=c11 -g -O1 -D_GNU_SOURCE -Isrc \
        -isystem /usr/include/$(gcc -print-multiarch)/openblas-openmp \
        $(pkg-config --cflags vips jansson libcurl sqlite3 libmicrohttpd libxml-2.0 libarchive) \
        -fsanitize=fuzzer,address,undefined "$src" "$out/libdinoseek.a" \
        $(pkg-config --libs vips jansson libcurl sqlite3 libmicrohttpd libxml-2.0 libarchive) \
        -L/usr/lib/$(gcc -print-multiarch)/openblas-openmp -lopenblas -ldnnl -lm -lpthread -o "$out/$name"
    mkdir -p "build/fuzz-out/$name"
    echo "== $name: running for ${seconds}s"
    # The last lines (stat::number_of_executed_units, cov:, ft:) are the
    # figures docs/testing.md records; build/fuzz-logs/ keeps each run's log.
    mkdir -p build/fuzz-logs
    # (sh has no pipefail: the fuzzer's status travels through a file.)
    { rc=0
      "$out/$name" -max_total_time="$seconds" -rss_limit_mb=4096 -timeout=20 \
          -print_final_stats=1 -artifact_prefix="build/fuzz-out/$name/" \
          "build/fuzz-out/$name" "fuzz/corpus/$name" || rc=$?
      echo $rc >"build/fuzz-logs/$name.rc"; } 2>&1 | tee "build/fuzz-logs/$name.log"
    rc=$(cat "build/fuzz-logs/$name.rc")
    if [ "$rc" -ne 0 ]; then
        echo "== $name: stopped with status $rc (its input is in build/fuzz-out/$name/)" >&2
        failed="$failed $name"
    fi
done
# One target's crash does not keep the others from their run.
if [ -n "$failed" ]; then
    echo "== crashed:$failed" >&2
    exit 1
fi
