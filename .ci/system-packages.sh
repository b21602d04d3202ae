#!/usr/bin/env bash
# Debian packages the tests need: chromium (dashboard e2e), pcscd + vpcd (virtual card),
# libpcsclite-dev + swig (to build pyscard), PostgreSQL (durable store backend),
# fonts-noto-cjk (Japanese text in plots; matplotlib falls back to it, scenarios/plots.py).
set -euo pipefail
pkgs=(chromium chromium-driver pcscd vsmartcard-vpcd libpcsclite-dev swig postgresql fonts-noto-cjk)
missing=()
for p in "${pkgs[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
echo "system packages present: ${pkgs[*]}"
