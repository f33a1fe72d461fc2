#!/usr/bin/env bash
# The web platform's end-to-end tests (.ci/run calls this): builds the site, serves it and the
# images on 127.0.0.1, and drives Debian's Chromium with playwright-core (tests/test.mjs).
# Installs what it needs: the chromium package (apt-get), playwright-core (npm, into
# tests/node_modules). Screenshots go to target/web-test/.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
cd "$root"
export ST80_IMAGES="${ST80_IMAGES:-$root/../shared/images}"
for f in xerox-v2/VirtualImage dbanay/VirtualImageLSB; do
    if ! [ -f "$ST80_IMAGES/$f" ]; then
        # As the cargo tests do: a missing image skips, except in CI.
        [ "${CI:-}" = true ] && { echo "web test: $ST80_IMAGES/$f is missing (set ST80_IMAGES)" >&2; exit 1; }
        echo "SKIPPED: web test: $ST80_IMAGES/$f is missing"
        exit 0
    fi
done

if ! [ -x /usr/bin/chromium ]; then
    echo "== installing Debian's chromium"
    sudo_cmd=""; [ "$(id -u)" = 0 ] || sudo_cmd=sudo
    $sudo_cmd apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq chromium >/dev/null
fi
(cd "$here/tests" && npm ci --no-audit --no-fund --silent)

work="$root/target/web-test"
rm -rf "$work"
mkdir -p "$work"
site="$work/site"
bash "$here/build.sh" "$site"
cargo build --quiet --release -p st80-cli
# The test server's extras: the images (never copied, a link) and the replay log.
ln -s "$ST80_IMAGES" "$site/images"
cp "$here/tests/ascii-session.txt" "$site/"

python3 -u -m http.server --bind 127.0.0.1 --directory "$site" 0 >"$work/server.log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null || true' EXIT
port=""
for _ in $(seq 50); do
    port="$(sed -n 's/.*port \([0-9]*\).*/\1/p' "$work/server.log" | head -1)"
    [ -n "$port" ] && break
    sleep 0.1
done
[ -n "$port" ] || { echo "web test: the HTTP server did not start:" >&2; cat "$work/server.log" >&2; exit 1; }

ST80_WEB_URL="http://127.0.0.1:$port" ST80="$root/target/release/st80" ST80_WEB_OUT="$work" \
    node "$here/tests/test.mjs"
