#!/usr/bin/env bash
# Builds the st80 web site (the page, its script and the VM as WebAssembly) into OUTDIR.
# Needs only cargo: it adds the wasm32 target with rustup and installs wasm-bindgen-cli (at
# the exact version of the wasm-bindgen crate in Cargo.lock) under target/web-tools.
# wasm-opt is used when it is on the PATH (optional).
#
#   bash platforms/web/build.sh OUTDIR
#   python3 -m http.server -d OUTDIR 8080     # then open http://127.0.0.1:8080/?image=...
set -euo pipefail
out="${1:?usage: build.sh OUTDIR}"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
cd "$root"
target=wasm32-unknown-unknown

if ! rustup target list --installed 2>/dev/null | grep -qx "$target"; then
    echo "build.sh: adding the $target target" >&2
    rustup target add "$target"
fi

version="$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/version = |"/, ""); print; exit }' Cargo.lock)"
[ -n "$version" ] || { echo "build.sh: no wasm-bindgen in Cargo.lock" >&2; exit 1; }
tools="$root/target/web-tools"
bindgen="$tools/bin/wasm-bindgen"
if [ "$("$bindgen" --version 2>/dev/null | awk '{print $2}')" != "$version" ]; then
    echo "build.sh: installing wasm-bindgen-cli $version into $tools (once; about a minute)" >&2
    # Built for building fast (opt-level 0: 1 min instead of 2 min 20 s); it writes the same
    # files, in 0.15 s instead of 0.06.
    # --locked first (the versions its authors tested); without it if a locked crate is gone.
    (
        export CARGO_PROFILE_RELEASE_OPT_LEVEL=0 CARGO_PROFILE_RELEASE_LTO=off CARGO_PROFILE_RELEASE_CODEGEN_UNITS=16
        cargo install --quiet --root "$tools" wasm-bindgen-cli --version "=$version" --locked \
            || cargo install --quiet --root "$tools" wasm-bindgen-cli --version "=$version"
    )
fi

cargo build --quiet -p st80-web --profile web --target "$target"
wasm="$root/target/$target/web/st80_web.wasm"

mkdir -p "$out"
"$bindgen" --target web --no-typescript --out-dir "$out" "$wasm"
if command -v wasm-opt >/dev/null 2>&1; then
    wasm-opt -O3 --enable-bulk-memory --enable-sign-ext --enable-nontrapping-float-to-int \
        -o "$out/st80_web_bg.wasm.opt" "$out/st80_web_bg.wasm" && mv "$out/st80_web_bg.wasm.opt" "$out/st80_web_bg.wasm"
else
    echo "build.sh: wasm-opt not found; the .wasm is not post-optimised (optional)" >&2
fi
cp "$here/www/index.html" "$here/www/st80.js" "$out/"
echo "build.sh: built $out ($(wc -c < "$out/st80_web_bg.wasm") bytes of wasm)" >&2
