#!/usr/bin/env bash
# Installs what the end-to-end tests need, idempotently: Debian's chromium (driven by playwright-core),
# and code-server (VS Code in a browser) in .e2e/code-server, a folder of its own. @vscode/ripgrep's
# installer would download ripgrep from GitHub; it finds Debian's rg in its cache instead.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

need_apt=()
command -v chromium >/dev/null 2>&1 || need_apt+=(chromium)
command -v rg >/dev/null 2>&1 || need_apt+=(ripgrep)
dpkg -s libkrb5-dev >/dev/null 2>&1 || need_apt+=(libkrb5-dev)
dpkg -s fonts-dejavu-core >/dev/null 2>&1 || need_apt+=(fonts-dejavu-core)
if [ ${#need_apt[@]} -gt 0 ]; then
  echo "e2e-setup: apt-get install ${need_apt[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi

cache="$(node -p 'require("os").tmpdir()')/vscode-ripgrep-cache-1.15.11"
archive="$cache/ripgrep-v13.0.0-10-x86_64-unknown-linux-musl.tar.gz"
if [ ! -f "$archive" ]; then
  mkdir -p "$cache"
  staging=$(mktemp -d)
  cp "$(command -v rg)" "$staging/rg"
  tar -czf "$archive" -C "$staging" rg
  rm -rf "$staging"
fi

if [ ! -x "$root/.e2e/code-server/node_modules/.bin/code-server" ]; then
  mkdir -p "$root/.e2e/code-server"
  cd "$root/.e2e/code-server"
  [ -f package.json ] || echo '{"name":"gradscope-e2e-code-server","private":true}' > package.json
  echo "e2e-setup: npm install code-server@4.100.3 (a few minutes)"
  npm_config_yes=true npm install code-server@4.100.3 --unsafe-perm --no-audit --no-fund --loglevel=error
fi
echo "e2e-setup: ready"
