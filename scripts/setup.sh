#!/usr/bin/env bash
# Install what a fresh Debian/Ubuntu machine lacks for openrs: npm dependencies, and redis-server
# (plus curl/openssl, which the tests use) from the OS packages. Idempotent and quick when all is there.
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf 'openrs setup: %s\n' "$*" >&2; }

node_major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
if [ "$node_major" -lt 20 ]; then
  say "Node.js 20 or newer is required (found: $(node --version 2>/dev/null || echo none))."
  exit 1
fi

# npm dependencies: install when missing or when package-lock.json changed since the last install.
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  say "installing npm dependencies (npm ci)"
  npm ci --no-audit --no-fund >&2
fi

# OS packages: redis-server runs the databases; curl and openssl are used by the tests; slapd
# (OpenLDAP server) and ldap-utils serve the LDAP tests (test/helpers/slapd.ts starts its own slapd).
missing=()
command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
command -v curl >/dev/null 2>&1 || missing+=(curl)
command -v openssl >/dev/null 2>&1 || missing+=(openssl)
[ -x /usr/sbin/slapd ] || missing+=(slapd)
command -v ldapsearch >/dev/null 2>&1 || missing+=(ldap-utils)
if [ ${#missing[@]} -gt 0 ]; then
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then SUDO="sudo"; fi
  fi
  if command -v apt-get >/dev/null 2>&1 && { [ "$(id -u)" -eq 0 ] || [ -n "$SUDO" ]; }; then
    say "installing ${missing[*]} from the OS packages"
    $SUDO apt-get update -qq >&2
    # The tests run their own slapd: the package need not create and start a system directory.
    if command -v debconf-set-selections >/dev/null 2>&1; then
      echo 'slapd slapd/no_configuration boolean true' | $SUDO debconf-set-selections
    fi
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
  else
    say "cannot install ${missing[*]} automatically (needs root or passwordless sudo with apt-get)."
    say "install it yourself, e.g.: sudo apt-get install ${missing[*]}"
    exit 1
  fi
fi
