#!/usr/bin/env bash
# Sets up everything sealdesk needs on a Debian 12 machine, doing only what is missing:
#   1. the Debian packages (OCR engine and language data, SoftHSM, poppler, CJK fonts, ...);
#   2. .venv/ in the repository root with the exact versions of requirements/lock.txt.
# Safe to run again: a second run with nothing to do takes about a second.
set -euo pipefail
cd "$(dirname "$0")/.."

DEBIAN_PACKAGES=(
  tesseract-ocr tesseract-ocr-chi-sim tesseract-ocr-chi-sim-vert tesseract-ocr-eng
  tesseract-ocr-osd softhsm2 opensc poppler-utils poppler-data fonts-noto-cjk
  fonts-wqy-zenhei qpdf libnss3-tools openssl
  fonts-arphic-uming fonts-arphic-ukai fonts-arphic-gbsn00lp fonts-arphic-gkai00mp
  fonts-lxgw-wenkai fonts-noto-cjk-extra fonts-wqy-microhei libgl1 libglib2.0-0 python3 python3-venv
  postgresql chromium chromium-driver
)

say() { printf 'setup: %s\n' "$*" >&2; }

missing=()
for pkg in "${DEBIAN_PACKAGES[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)
  [[ "$status" == "install ok installed" ]] || missing+=("$pkg")
done
if ((${#missing[@]})); then
  sudo=""
  if [[ $(id -u) -ne 0 ]]; then
    command -v sudo >/dev/null || { say "need root (or sudo) to install: ${missing[*]}"; exit 1; }
    sudo="sudo"
  fi
  say "installing Debian packages: ${missing[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# This machine's pip configuration may name index folders that do not exist; pip says so
# once per package. Keep the rest of what pip says.
quiet_pip() { "$@" 2> >(grep -v "is ignored: it is neither a file nor a directory" >&2); }

PYTHON=${PYTHON:-python3}
lock_hash=$(cat requirements/lock.txt pyproject.toml | sha256sum | cut -c1-16)
stamp=.venv/.sealdesk-installed
if [[ ! -x .venv/bin/python || "$(cat "$stamp" 2>/dev/null)" != "$lock_hash" ]]; then
  say "building .venv from requirements/lock.txt (about a minute the first time)"
  [[ -x .venv/bin/python ]] || "$PYTHON" -m venv .venv
  .venv/bin/python -m pip install --quiet --disable-pip-version-check --upgrade "pip==26.3" 2>/dev/null \
    || say "pip upgrade skipped; using the venv's own pip"
  quiet_pip .venv/bin/python -m pip install --quiet --disable-pip-version-check --no-deps \
    -r requirements/lock.txt
  # setuptools warns about every editable install; show its output only if it fails
  if ! out=$(.venv/bin/python -m pip install --quiet --disable-pip-version-check --no-deps -e . 2>&1); then
    printf '%s\n' "$out" | grep -v "is ignored: it is neither" >&2
    exit 1
  fi
  .venv/bin/python -m pip check >/dev/null || { .venv/bin/python -m pip check; exit 1; }
  echo "$lock_hash" > "$stamp"
fi
