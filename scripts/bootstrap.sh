#!/usr/bin/env bash
# Idempotent set-up for a fresh Debian machine: system packages, then the project's virtualenv.
# Safe to run again: each step is skipped when already done.
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(chromium wget fonts-wqy-microhei)   # Chromium for scrapy-playwright; wget as a peer WARC writer; a CJK font so browser screenshots of archived pages are legible

# npm fetches ReplayWeb.page below; most images ship Node.js, Debian's npm package covers the rest.
command -v npm >/dev/null 2>&1 || APT_PACKAGES+=(npm)

missing=()
for pkg in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if ((${#missing[@]})); then
  echo "bootstrap: installing system packages: ${missing[*]}" >&2
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

PYTHON="${PYTHON:-python3.11}"
command -v "$PYTHON" >/dev/null 2>&1 || PYTHON=python3
if [ ! -x .venv/bin/python ]; then
  echo "bootstrap: creating .venv with $PYTHON" >&2
  "$PYTHON" -m venv .venv
fi
stamp=.venv/.portal-archive-installed
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
  echo "bootstrap: installing the project and its test tools into .venv" >&2
  pip_log=$(mktemp)
  for args in "--upgrade pip" "-e .[test,bench]"; do
    # shellcheck disable=SC2086 # word splitting of the argument list is intended
    if ! .venv/bin/python -m pip install -q $args >"$pip_log" 2>&1; then
      grep -v "^WARNING: Location" "$pip_log" >&2; rm -f "$pip_log"
      echo "bootstrap: pip install $args failed" >&2; exit 1
    fi
  done
  rm -f "$pip_log"
  .venv/bin/python -c "import portal_archive, scrapy, warcio, datasketch, scrapy_playwright, pywb" \
    || { echo "bootstrap: installation incomplete" >&2; exit 1; }
  touch "$stamp"
fi

# ReplayWeb.page, the in-browser replay client for WACZ files (tests load it in Chromium). Pinned,
# gitignored, fetched once. `npm pack` + tar instead of `npm install`: the package ships self-contained
# ui.js/sw.js bundles, and its declared build dependencies (wabac.js -> warcio ^2.4.12) do not all
# resolve on the registry.
RWP_VERSION=2.5.3
RWP_DIR=vendor/replaywebpage
if [ "$(cat "$RWP_DIR/.version" 2>/dev/null)" != "$RWP_VERSION" ]; then
  if command -v npm >/dev/null 2>&1; then
    echo "bootstrap: fetching replaywebpage@$RWP_VERSION into $RWP_DIR" >&2
    rwp_tmp=$(mktemp -d)
    (cd "$rwp_tmp" && npm pack --silent "replaywebpage@$RWP_VERSION" >/dev/null)
    rm -rf "$RWP_DIR" && mkdir -p "$RWP_DIR"
    tar -xzf "$rwp_tmp/replaywebpage-$RWP_VERSION.tgz" -C "$RWP_DIR" --strip-components=1
    rm -rf "$rwp_tmp"
    [ -s "$RWP_DIR/ui.js" ] && [ -s "$RWP_DIR/sw.js" ] || { echo "bootstrap: replaywebpage incomplete" >&2; exit 1; }
    echo "$RWP_VERSION" > "$RWP_DIR/.version"
  else
    echo "bootstrap: npm not found; the ReplayWeb.page browser test will be skipped" >&2
  fi
fi
