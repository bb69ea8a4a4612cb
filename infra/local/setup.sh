#!/usr/bin/env bash
# Installs Python requirements into a venv at the repository root (idempotent, quiet when done).
#   infra/local/setup.sh          the local AWS emulator (infra/local/requirements.txt → .venv)
#   infra/local/setup.sh tools    the SAM CLI (infra/tools/requirements.txt → .venv-tools)
#   infra/local/setup.sh package  cargo-lambda and zig (infra/tools/package.txt → .venv-package)
#   infra/local/setup.sh browser  Chromium and ChromeDriver from Debian's packages (apt, as root or with sudo)
# Needs only python3 with venv/pip; everything else comes from PyPI (the browser from Debian).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
if [ "${1:-}" = browser ]; then
  if command -v chromium >/dev/null && command -v chromedriver >/dev/null; then
    exit 0
  fi
  as_root=()
  if [ "$(id -u)" != 0 ]; then
    command -v sudo >/dev/null || { echo "installing chromium needs root or sudo" >&2; exit 1; }
    as_root=(sudo)
  fi
  echo "installing chromium and chromium-driver from Debian's packages ..." >&2
  install=("${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends chromium chromium-driver)
  # A fresh machine may have no package lists yet.
  "${install[@]}" >/dev/null || { "${as_root[@]}" apt-get update -q >/dev/null && "${install[@]}" >/dev/null; }
  exit 0
fi
case "${1:-emulator}" in
  emulator) req="$root/infra/local/requirements.txt"; venv="$root/.venv" ;;
  tools) req="$root/infra/tools/requirements.txt"; venv="$root/.venv-tools" ;;
  package) req="$root/infra/tools/package.txt"; venv="$root/.venv-package" ;;
  *) echo "usage: $0 [emulator|tools|package|browser]" >&2; exit 2 ;;
esac
stamp="$venv/.requirements.sha256"
want="$(sha256sum "$req" | cut -d' ' -f1)"
if [ -x "$venv/bin/python" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$want" ]; then
  exit 0
fi
echo "installing $(basename "$(dirname "$req")")/$(basename "$req") into $venv ..." >&2
python3 -m venv "$venv"
"$venv/bin/pip" install --quiet --disable-pip-version-check -r "$req"
echo "$want" > "$stamp"
