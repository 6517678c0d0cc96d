#!/usr/bin/env bash
# Idempotent set-up for a fresh Debian machine: system packages, then the project's virtualenv.
# Safe to run again: each step is skipped when already done.
set -euo pipefail
cd "$(dirname "$0")/.."

# Every step that does work says so when it starts and how long it took: apt and pip are quiet,
# and a silent minute reads as a hang.
steps_done=0
step() { step_name=$1; step_started=$SECONDS; echo "bootstrap: $step_name ..." >&2; }
step_done() { steps_done=$((steps_done + 1)); echo "bootstrap: $step_name: done in $((SECONDS - step_started)) s" >&2; }

APT_PACKAGES=(chromium wget fonts-wqy-microhei)   # Chromium for scrapy-playwright; wget as a peer WARC writer; a CJK font so browser screenshots of archived pages are legible
# redis-server: distributed crawling (portal_archive.distributed) and its tests. The tests start a
# private instance of their own on a free port of 127.0.0.1 and never use 6379, so if installing the
# package also started Debian's service, it is left as it is.
APT_PACKAGES+=(redis-server)

# npm fetches ReplayWeb.page below; most images ship Node.js, Debian's npm package covers the rest.
command -v npm >/dev/null 2>&1 || APT_PACKAGES+=(npm)

missing=()
for pkg in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if ((${#missing[@]})); then
  step "installing system packages: ${missing[*]}"
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  step_done
fi

PYTHON="${PYTHON:-python3.11}"
command -v "$PYTHON" >/dev/null 2>&1 || PYTHON=python3
if [ ! -x .venv/bin/python ]; then
  step "creating .venv with $PYTHON"
  "$PYTHON" -m venv .venv
  step_done
fi
# pip_install VENV ARGS...: each ARGS string is one `pip install` run; fail loudly with pip's output.
pip_install() {
  local venv=$1 args pip_log
  shift
  pip_log=$(mktemp)
  for args in "$@"; do
    # shellcheck disable=SC2086 # word splitting of the argument list is intended
    if ! "$venv/bin/python" -m pip install -q $args >"$pip_log" 2>&1; then
      grep -v "^WARNING: Location" "$pip_log" >&2; rm -f "$pip_log"
      echo "bootstrap: pip install $args failed in $venv" >&2; exit 1
    fi
  done
  rm -f "$pip_log"
}

stamp=.venv/.portal-archive-installed
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
  step "installing the project and its test tools into .venv (pip, about a minute the first time)"
  pip_install .venv "--upgrade pip" "-e .[test,bench,dist]"
  .venv/bin/python -c "import portal_archive, scrapy, warcio, datasketch, scrapy_playwright, scrapy_redis, redis" \
    || { echo "bootstrap: installation incomplete in .venv" >&2; exit 1; }
  touch "$stamp"
  step_done
fi

# pywb in an environment of its own: it pins redis==2.10.6 and imports fakeredis<1.0, which break
# with the redis>=4.2 that scrapy-redis needs (webrecorder/pywb#817, #903). pywb only ever runs in
# child processes (it gevent-patches the interpreter); portal_archive.replay.pywbenv finds this one.
if [ ! -x .venv-pywb/bin/python ]; then
  step "creating .venv-pywb with $PYTHON"
  "$PYTHON" -m venv .venv-pywb
  step_done
fi
pywb_stamp=.venv-pywb/.portal-archive-installed
if [ ! -f "$pywb_stamp" ] || [ pyproject.toml -nt "$pywb_stamp" ]; then
  step "installing pywb into .venv-pywb (pip)"
  pip_install .venv-pywb "--upgrade pip" "-e . --no-deps" "pywb>=2.10,<3"
  .venv-pywb/bin/python -c "import pywb.apps.frontendapp, gevent, portal_archive.replay.pywb_app" \
    || { echo "bootstrap: installation incomplete in .venv-pywb" >&2; exit 1; }
  touch "$pywb_stamp"
  step_done
fi

# ReplayWeb.page, the in-browser replay client for WACZ files (tests load it in Chromium). Pinned,
# gitignored, fetched once. `npm pack` + tar instead of `npm install`: the package ships self-contained
# ui.js/sw.js bundles, and its declared build dependencies (wabac.js -> warcio ^2.4.12) do not all
# resolve on the registry.
RWP_VERSION=2.5.3
RWP_DIR=vendor/replaywebpage
if [ "$(cat "$RWP_DIR/.version" 2>/dev/null)" != "$RWP_VERSION" ]; then
  if command -v npm >/dev/null 2>&1; then
    step "fetching replaywebpage@$RWP_VERSION into $RWP_DIR (npm)"
    rwp_tmp=$(mktemp -d)
    (cd "$rwp_tmp" && npm pack --silent "replaywebpage@$RWP_VERSION" >/dev/null)
    rm -rf "$RWP_DIR" && mkdir -p "$RWP_DIR"
    tar -xzf "$rwp_tmp/replaywebpage-$RWP_VERSION.tgz" -C "$RWP_DIR" --strip-components=1
    rm -rf "$rwp_tmp"
    [ -s "$RWP_DIR/ui.js" ] && [ -s "$RWP_DIR/sw.js" ] || { echo "bootstrap: replaywebpage incomplete" >&2; exit 1; }
    echo "$RWP_VERSION" > "$RWP_DIR/.version"
    step_done
  else
    echo "bootstrap: npm not found; the ReplayWeb.page browser test will be skipped" >&2
  fi
fi
if ((steps_done)); then
  echo "bootstrap: ready: $steps_done step(s) in $SECONDS s" >&2
fi
