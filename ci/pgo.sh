#!/usr/bin/env bash
# A profile-guided (PGO) release build of st80 for this host, as the amd64 package ships it.
#
#   ci/pgo.sh            builds $CARGO_TARGET_DIR/<host triple>/release/st80 and prints its path
#
# 1. An instrumented release build (-Cprofile-generate) into $CARGO_TARGET_DIR/pgo-train.
# 2. The training: the Xerox v2 image booted and left idle (the desktop's own loop), then the
#    image's Benchmark suite (sends, blocks, arithmetic, text, the compiler, the decompiler):
#    what st80 spends its time on. Any change in the image's behaviour would show in the
#    display hashes the tests and ci/package.sh check on the result, never in the profile.
# 3. The profiles merged with llvm-profdata (rustup's llvm-tools component, added if missing:
#    it must match rustc's LLVM) and a release build with -Cprofile-use, for an explicit
#    --target so that the flags reach only st80's crates, not build scripts or proc-macros.
#
# The profile changes only how the compiler lays out and inlines code; the program is the
# same. docs/performance.md has what it saves. Needs ST80_IMAGES (the Xerox v2 image).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
root=$(pwd)
export ST80_IMAGES="${ST80_IMAGES:-$root/../shared/images}"
image=$ST80_IMAGES/xerox-v2/VirtualImage
[ -f "$image" ] || { echo "pgo: $image not found: the training needs the Xerox v2 image" >&2; exit 2; }
target_dir=${CARGO_TARGET_DIR:-$root/target}
host=$(rustc -vV | sed -n 's/^host: //p')
sysroot=$(rustc --print sysroot)
profdata=$sysroot/lib/rustlib/$host/bin/llvm-profdata
if [ ! -x "$profdata" ]; then
    rustup component add llvm-tools >&2
fi
[ -x "$profdata" ] || { echo "pgo: no $profdata (rustup component add llvm-tools)" >&2; exit 2; }

train=$target_dir/pgo-train
profiles=$train/profiles
rm -rf "$profiles"
mkdir -p "$profiles"
echo "pgo: instrumented build ($train)" >&2
# (With the default features, as the package: a headless-only training build saves a minute,
# but its profile serves the package's binary less well, measured: boot + idle 89.0 instead of
# 87.3 instructions per bytecode, the suite the same.)
RUSTFLAGS="-Cprofile-generate=$profiles" cargo build --release -p st80-cli --target "$host" \
    --target-dir "$train" --quiet
st80=$train/$host/release/st80
echo "pgo: training on $image" >&2
"$st80" run "$image" --headless --no-sources --cycles 3000000 >/dev/null 2>&1
"$st80" bench "$image" --gc-samples 0 >/dev/null 2>&1
"$profdata" merge -o "$train/st80.profdata" "$profiles"
echo "pgo: optimized build" >&2
RUSTFLAGS="-Cprofile-use=$train/st80.profdata" cargo build --release -p st80-cli --target "$host" \
    --target-dir "$target_dir" --quiet
echo "$target_dir/$host/release/st80"
