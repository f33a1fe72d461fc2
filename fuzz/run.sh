#!/usr/bin/env bash
# Runs st80's fuzz targets with cargo-fuzz (libFuzzer), installing the nightly toolchain and
# cargo-fuzz first if they are missing.
#
#   bash fuzz/run.sh [SECONDS] [TARGET...]     each target for SECONDS (default 30), all by default
#
# Seeds are written into fuzz/corpus/<target>/ (by the make-seeds program) and the corpora grow
# there; crashes land in fuzz/artifacts/<target>/ and make the script fail. The primitives target
# needs the Xerox image: $ST80_IMAGES/xerox-v2/VirtualImage (default ../shared/images).
# Each target's last libFuzzer status line (executions, rate) is printed at the end.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
seconds="${1:-30}"
shift || true
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
    targets=(image_load round_trip check replay_parse chunk_reader primitives)
fi

if ! rustup toolchain list | grep -q '^nightly'; then
    rustup toolchain install nightly --profile minimal
fi
if ! cargo fuzz --version >/dev/null 2>&1; then
    # Built for building fast (19 s instead of 35): the tool only drives cargo and libFuzzer.
    CARGO_PROFILE_RELEASE_OPT_LEVEL=0 CARGO_PROFILE_RELEASE_LTO=off CARGO_PROFILE_RELEASE_CODEGEN_UNITS=16 \
        cargo install cargo-fuzz --locked
fi
export ST80_IMAGES="${ST80_IMAGES:-$(pwd)/../../shared/images}"
case "$ST80_IMAGES" in /*) ;; *) ST80_IMAGES="$(pwd)/../$ST80_IMAGES" ;; esac

cargo +nightly run --quiet --release --bin make-seeds
status=0
for t in "${targets[@]}"; do
    log="$(mktemp)"
    echo "== fuzz $t for ${seconds}s"
    # No AddressSanitizer: st80-core has one unsafe block (a bounds-checked byte view of its
    # heap) and the parsers none, and ASan's cost on the per-run image copies cut the rate
    # several-fold. Debug assertions stay on (cargo-fuzz's default): they check every field index.
    if ! cargo +nightly fuzz run -s none "$t" "corpus/$t" -- -max_total_time="$seconds" -max_len=4096 \
        -print_final_stats=1 >"$log" 2>&1; then
        status=1
        tail -40 "$log"
    fi
    grep -E '^(#[0-9]+.*(DONE|pulse|NEW|REDUCE)|stat::number_of_executed_units|stat::average_exec_per_sec)' "$log" | tail -3
    rm -f "$log"
done
exit $status
