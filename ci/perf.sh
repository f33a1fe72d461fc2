#!/usr/bin/env bash
# Performance numbers for st80 (docs/performance.md says how to read them). Prints only; no
# assertions. Needs valgrind (callgrind) and the v2 image under $ST80_IMAGES.
#
#   boot + idle:  callgrind instructions of `st80 run --headless --cycles 2200000` minus those
#                 of `--cycles 200000`, divided by the 2,000,000 bytecodes in between (start-up
#                 and the boot's first 200k bytecodes cancel out).
#   suite:        callgrind instructions of `st80 bench` (the image's Benchmark suite) minus
#                 those of `st80 bench --test testLoadInstVar`, divided by the difference of the
#                 bytecodes they report (start-up and boot cancel out).
#   the same two for the profile-guided build (ci/pgo.sh) when it has been built.
#   bench --json: the suite natively, wall-clock bytecodes/s and sends/s, its collections and
#                 the pause of a full collection of the heap it leaves (median of 11).
#   start-up:     wall time of `st80 run --headless --cycles 0` (exec, load, set-up, exit; median
#                 of 21), and peak RSS of the 2.2M-cycle headless run, for the st80 binary (linked
#                 with SDL2, whose libraries load even with --headless) and a headless-only build.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
export ST80_IMAGES="${ST80_IMAGES:-$(pwd)/../shared/images}"
image="$ST80_IMAGES/xerox-v2/VirtualImage"
if [ ! -f "$image" ]; then
    echo "SKIP: $image not found; no performance numbers"
    exit 0
fi
cargo build --release -p st80-cli --quiet
st80=target/release/st80
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# Instructions (Ir) callgrind counted for the command after `--`.
instructions() {
    valgrind --tool=callgrind --callgrind-out-file="$work/cg.out" "$@" >"$work/out" 2>"$work/err" || {
        cat "$work/err" >&2
        return 1
    }
    sed -n 's/.*Collected : \([0-9]*\).*/\1/p' "$work/err"
}

# The bytecodes the last `st80 bench --json` under `instructions` reported.
tests_bytecodes() { python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["bytecodes"])' "$work/out"; }

# The two workloads' host instructions per bytecode for the st80 binary $1, each line
# prefixed with $2.
# The suite is the whole suite minus its shortest test, so that start-up and boot (on the real
# clock the boot's length varies) cancel out. (No timed collections after the tests: under
# callgrind they would count as the suite's.)
per_bytecode() {
    local binary=$1 prefix=$2 short long one one_bytecodes all all_bytecodes
    short=$(instructions "$binary" run "$image" --headless --no-sources --cycles 200000)
    long=$(instructions "$binary" run "$image" --headless --no-sources --cycles 2200000)
    echo "${prefix}boot + idle: $short instructions at 200k cycles, $long at 2.2M:" \
        "$(awk -v a="$short" -v b="$long" 'BEGIN { printf "%.1f", (b - a) / 2000000 }')" \
        "host instructions per bytecode"
    one=$(instructions "$binary" bench "$image" --json --gc-samples 0 --test testLoadInstVar)
    one_bytecodes=$(tests_bytecodes)
    all=$(instructions "$binary" bench "$image" --json --gc-samples 0)
    all_bytecodes=$(tests_bytecodes)
    echo "${prefix}Benchmark suite: $all instructions for $all_bytecodes bytecodes, $one for testLoadInstVar's" \
        "$one_bytecodes: $(awk -v a="$all" -v b="$one" -v c="$all_bytecodes" -v d="$one_bytecodes" \
            'BEGIN { printf "%.1f", (a - b) / (c - d) }') host instructions per bytecode"
}

if command -v valgrind >/dev/null; then
    per_bytecode "$st80" ""
    # The same for the profile-guided build the amd64 package ships (ci/pgo.sh, which
    # ci/package.sh runs before this in .ci/run), when it is there.
    pgo=target/$(rustc -vV | sed -n 's/^host: //p')/release/st80
    # (One left from an older checkout would measure other code: its sources must not be newer.)
    if [ -x "$pgo" ] && [ -n "$(find core platforms -name '*.rs' -newer "$pgo" -print -quit)" ]; then
        echo "profile-guided build: $pgo is older than the sources (bash ci/pgo.sh); not measured"
    elif [ -x "$pgo" ]; then
        per_bytecode "$pgo" "profile-guided build ($pgo, ci/pgo.sh): "
    else
        echo "profile-guided build: $pgo not built (bash ci/pgo.sh); not measured"
    fi
else
    echo "SKIP: valgrind is not installed; no instruction counts (apt install valgrind)"
fi

"$st80" bench "$image" --json 2>/dev/null >"$work/bench.json"
python3 - "$work/bench.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
print(f"st80 bench: {d['bytecodes']} bytecodes in {d['total_seconds']:.3f} s: "
      f"{d['bytecodes_per_second'] / 1e6:.1f} M bytecodes/s, {d['sends_per_second'] / 1e6:.1f} M sends/s; "
      f"{d['gcs']} collections ({d['full_gcs']} full), a full one {d['gc_pause_ms']['median']:.3f} ms (median)")
print(json.dumps({k: v for k, v in d.items() if k != "tests"}))
PY

cargo build --release -p st80-cli --no-default-features --quiet --target-dir target/headless-only
python3 - "$image" "$st80" target/headless-only/release/st80 <<'PY'
import re, statistics, subprocess, sys, time
image = sys.argv[1]

def run(binary, cycles):
    """Wall seconds and st80's summary line of one headless run of `cycles` bytecodes."""
    started = time.perf_counter()
    done = subprocess.run([binary, "run", image, "--headless", "--no-sources", "--cycles", str(cycles)],
                          stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, check=True)
    return time.perf_counter() - started, done.stderr

for binary, what in zip(sys.argv[2:], ["st80 (desktop linked)", "st80 headless-only build"]):
    start = statistics.median(run(binary, 0)[0] for _ in range(21))
    # st80 reports its own peak (VmHWM): a parent's rusage would count the parent's pages
    # that the child had between fork and exec.
    peak = re.search(r"peak RSS ([0-9.]+ MB)", run(binary, 2_200_000)[1])
    print(f"{what}: start-up {start * 1e3:.1f} ms (exec to exit, --cycles 0; median of 21), "
          f"peak RSS {peak.group(1) if peak else 'not reported'} (2.2M cycles headless)")
PY
