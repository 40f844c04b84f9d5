#!/bin/sh
# demo.sh BIN - what `make demo` runs: get DINOv2 weights, embed sample
# images and show how similar they are to each other, generate a synthetic
# USPTO week and import it (and the real USPTO samples in ../shared) into
# ./data, and serve the search API on 127.0.0.1:8000 until Ctrl-C
# (DINOSEEK_DEMO_NO_SERVE=1 stops after importing).
#
# Weights: the official facebook/dinov2-small when it can be downloaded (once;
# it is cached under ~/.cache/dinoseek/models), otherwise deterministic
# generated weights of the same architecture, with which similarity between
# images is NOT meaningful. The output says which it used.
set -eu
bin=${1:-build/dinoseek}
cd "$(dirname "$0")/.."
data=${DINOSEEK_DATA:-./data}
mkdir -p "$data"

cache=${DINOSEEK_MODEL_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/dinoseek/models}
official="$cache/facebook--dinov2-small"
generated="$data/models/dinov2-small-generated"

if [ -f "$official/model.safetensors" ] && [ -f "$official/config.json" ]; then
    model=$official
    echo "demo: using the official facebook/dinov2-small from $official"
elif "$bin" model fetch facebook/dinov2-small >/dev/null; then
    model=$official
    echo "demo: downloaded the official facebook/dinov2-small into $official"
else
    echo "demo: could not download facebook/dinov2-small (no network?)."
    echo "demo: falling back to GENERATED weights: the pipeline runs for real, but"
    echo "demo: similarity between images is NOT meaningful with these weights."
    if [ ! -f "$generated/model.safetensors" ]; then
        "$bin" model generate --arch small --seed 1 "$generated"
    fi
    model=$generated
fi
echo
"$bin" model info "$model"
echo

# Sample images: USPTO-style drawings (1-bit CCITT G4 TIFF, as in the weekly
# grants) and photos in several formats.
imgs=$(ls tests/fixtures/images/drawing_g4.tif tests/fixtures/images/drawing_2page.tif \
          tests/fixtures/images/parity_photo.jpg tests/fixtures/images/parity_photo.png \
          tests/fixtures/images/parity_tall.png tests/fixtures/images/quad.webp \
          tests/fixtures/images/quad.gif tests/fixtures/images/quad_cmyk.tif 2>/dev/null)
out="$data/demo-vectors.jsonl"
echo "demo: embedding $(echo "$imgs" | wc -w) sample images -> $out"
start=$(date +%s.%N)
# shellcheck disable=SC2086
"$bin" embed --model "$model" $imgs > "$out"
end=$(date +%s.%N)
echo "demo: done in $(awk "BEGIN { printf \"%.2f\", $end - $start }") s, including loading the model"
echo
# Cosine similarity of every pair (the vectors are unit length: a dot product).
awk '
function basename(p) { sub(/.*\//, "", p); return p }
{
    match($0, /"file": "[^"]*"/); f = substr($0, RSTART + 9, RLENGTH - 10)
    match($0, /"vector": \[[^]]*\]/); v = substr($0, RSTART + 11, RLENGTH - 12)
    n++; name[n] = basename(f); dim = split(v, x, ", ")
    for (i = 1; i <= dim; i++) vec[n, i] = x[i]
}
END {
    printf "cosine similarity between the sample images:\n%-24s", ""
    for (j = 1; j <= n; j++) printf " %6s", "#" j
    printf "\n"
    for (i = 1; i <= n; i++) {
        printf "#%-2d %-20.20s", i, name[i]
        for (j = 1; j <= n; j++) {
            s = 0; for (k = 1; k <= dim; k++) s += vec[i, k] * vec[j, k]
            printf " %6.3f", s
        }
        printf "\n"
    }
}' "$out"
if [ "$model" = "$generated" ]; then
    echo
    echo "demo: reminder: GENERATED weights; these similarities are not meaningful."
    echo "demo: with network access, run: $bin model fetch facebook/dinov2-small"
fi

echo
# A synthetic USPTO week (no network needed): a few hundred design patents
# across several Locarno classes, drawings as 1-bit CCITT G4 TIFFs, packed
# as the weekly design bulk archive (I20221025.tar of DESIGN/USD*.ZIP).
samples="$data/samples"
if [ ! -f "$samples/I20221025.tar" ]; then
    echo "demo: generating a synthetic USPTO week in $samples"
    # Numbered from D2000001, a range the USPTO has not reached: the real
    # samples imported below (D0967598, ...) keep their own numbers.
    "$bin" sample generate "$samples" --patents "${DINOSEEK_DEMO_PATENTS:-300}" --first 2000001
fi
echo "demo: importing $samples/I20221025.tar (a rerun skips what is there)"
"$bin" import --data "$data" --model "$model" "$samples/I20221025.tar" || [ $? -eq 3 ]
# The real USPTO grant XML beside the project: bibliographic data only (those
# files carry no drawings), so their patents show in the catalog and filters.
shared=../shared/data/uspto-samples
if [ -d "$shared" ]; then
    echo "demo: importing the real USPTO samples in $shared (bibliographic data)"
    "$bin" import --data "$data" --model "$model" --metadata-only \
        "$shared"/*.xml "$shared"/*.zip || [ $? -eq 3 ]
fi
"$bin" stats --data "$data" --model "$model" | grep -E '"(collection_name|images|patents)"'
[ -n "${DINOSEEK_DEMO_NO_SERVE:-}" ] && exit 0
listen=${DINOSEEK_LISTEN:-127.0.0.1:8000}
echo
echo "demo: serving on http://$listen/ (Ctrl-C stops): open it in a browser for the web UI."
echo "demo: its Collection tab can import from $samples (the server's import root). Or try:"
echo "  curl -F file=@tests/fixtures/images/drawing_g4.tif -F top_k=3 -F group_by_patent=true http://$listen/api/search"
echo "  curl http://$listen/api/collection/stats"
echo "  curl http://$listen/health"
exec "$bin" serve --data "$data" --model "$model" --listen "$listen" --import-roots "$samples"
