#!/usr/bin/env bash
# Installs the Debian packages openseat needs to build, run and test, when missing.
# Idempotent and non-interactive; does nothing when everything is present.
set -euo pipefail

PKGS=(
  build-essential pkg-config clang
  libmicrohttpd-dev libjansson-dev libsqlite3-dev libsodium-dev libcurl4-openssl-dev
  libcmocka-dev libcsv-dev libzip-dev libexpat1-dev libxlsxwriter-dev libcjose-dev sqlite3 liboath-dev oathtool
  libpq-dev postgresql-15 postgresql-client-15 haproxy
  python3 python3-pytest python3-aiosmtpd python3-openpyxl python3-psycopg2 python3-jsonschema
  libreoffice-calc-nogui
  nodejs npm chromium
  wrk nginx-light
)

missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

# node and npm may come from outside Debian on some machines: accept them when on PATH.
if [[ " ${missing[*]} " == *" nodejs "* ]] && command -v node >/dev/null; then missing=("${missing[@]/nodejs}"); fi
if [[ " ${missing[*]} " == *" npm "* ]] && command -v npm >/dev/null; then missing=("${missing[@]/npm}"); fi
read -r -a missing <<<"${missing[*]}"

if ((${#missing[@]})); then
  echo "installing: ${missing[*]}"
  SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# Browser-test driver: playwright-core from the npm registry (no browser download; Debian's chromium),
# and axe-core, the accessibility checker the browser tests run on pages.
if [ ! -d tests/e2e/node_modules/playwright-core ] || [ ! -d tests/e2e/node_modules/axe-core ]; then
  (cd tests/e2e && npm install --no-audit --no-fund --silent >/dev/null)
fi

# The API tests' webhook receiver verifies what the server signs with the npm package
# integrators use (standardwebhooks) and a SCIM PATCH reference (scim-patch); the API and browser
# tests of signing in with a provider start a real OpenID provider (oidc-provider, with jose).
# Installed from tests/peers' lock file, again whenever one of them is missing.
if [ ! -d tests/peers/node_modules/standardwebhooks ] || [ ! -d tests/peers/node_modules/scim-patch ] \
   || [ ! -d tests/peers/node_modules/oidc-provider ] || [ ! -d tests/peers/node_modules/jose ]; then
  (cd tests/peers && npm install --no-audit --no-fund --silent >/dev/null)
fi
