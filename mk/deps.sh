#!/bin/sh
# deps.sh - install the Debian packages dinoseek needs, only those missing.
#
# Run by `make` before anything is built. It asks dpkg which packages are
# absent and installs just those, non-interactively; when all are present it
# costs one dpkg-query and prints nothing. Not root and packages missing:
# it says which and fails, rather than guessing at sudo.
set -eu

# Build: compiler, libraries and pkg-config. The OpenMP flavour of OpenBLAS
# is chosen because our own parallel loops use OpenMP, and that flavour runs
# single-threaded when it is called from inside one of them.
PKGS="build-essential pkg-config libvips-dev libopenblas-openmp-dev
libjansson-dev libcurl4-openssl-dev libsqlite3-dev libmicrohttpd-dev
libxml2-dev libarchive-dev"
# oneDNN: the bf16 matrix products (AVX512_BF16, AMX), see src/model/gemm.h.
PKGS="$PKGS libdnnl-dev"
# Tests and tools: clang for the fuzz targets (libFuzzer) and sanitizer
# runtimes; Python for the helper HTTP server used by the download tests.
PKGS="$PKGS clang libclang-rt-14-dev python3"
# The backend suites: a venv (python3-venv) for the real S3 and Milvus
# servers and pymilvus (tests/peers/peers.py), and the curl command, which
# plays a foreign S3 client.
PKGS="$PKGS python3-venv curl"
# The browser tests: Debian's chromium driven by playwright-core under node
# (18 or later). A node installed otherwise (NodeSource's nodejs bundles npm
# and conflicts with Debian's npm) is kept as it is.
PKGS="$PKGS chromium"
command -v node >/dev/null 2>&1 || PKGS="$PKGS nodejs"
command -v npm >/dev/null 2>&1 || PKGS="$PKGS npm"
# Extra packages named on the command line (e.g. python3-torch for `make bench`).
PKGS="$PKGS $*"

missing=""
for p in $PKGS; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        missing="$missing $p"
    fi
done
[ -z "$missing" ] && exit 0

echo "deps: installing missing packages:$missing"
if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then
        SUDO=sudo
    else
        echo "deps: need root to install:$missing" >&2
        exit 1
    fi
else
    SUDO=
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq || true
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing
