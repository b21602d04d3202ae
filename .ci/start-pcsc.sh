#!/usr/bin/env bash
# Start pcscd (PC/SC daemon) with the vsmartcard vpcd virtual-reader driver, and wait until it
# is ready: its socket answers and vpcd listens on 127.0.0.1:35963 for virtual cards.
# Idempotent: does nothing if pcscd is already running. .ci/run calls every .ci/start-*.sh.
set -euo pipefail

SOCKET=/run/pcscd/pcscd.comm
VPCD_PORT=${VPCD_PORT:-35963}

# A LISTEN row (state 0A) for the port in /proc/net/tcp (no dependency on ss or netstat).
vpcd_listening() {
  local hex
  hex=$(printf '%04X' "$VPCD_PORT")
  awk -v p=":$hex" 'NR > 1 && substr($2, length($2) - 4) == p && $4 == "0A" { found = 1 } END { exit !found }' \
    /proc/net/tcp /proc/net/tcp6 2>/dev/null
}
pcscd_running() { pidof pcscd >/dev/null 2>&1; }

if ! command -v pcscd >/dev/null 2>&1; then
  echo "pcscd is not installed (Debian package pcscd; see .ci/system-packages.sh)" >&2
  exit 1
fi
if [ ! -e /etc/reader.conf.d/vpcd ]; then
  echo "the vpcd driver is not configured (Debian package vsmartcard-vpcd)" >&2
  exit 1
fi

if pcscd_running; then
  echo "pcscd already running (pid $(pidof pcscd))"
else
  # A stale socket or pid file from a killed daemon would stop a new one from starting.
  rm -f "$SOCKET" /run/pcscd/pcscd.pid
  mkdir -p /run/pcscd
  pcscd  # daemonises itself; logs go to syslog
  echo "pcscd started"
fi

for _ in $(seq 1 100); do
  if [ -S "$SOCKET" ] && vpcd_listening; then
    echo "pcscd ready: $SOCKET; vpcd listening on port $VPCD_PORT"
    exit 0
  fi
  sleep 0.1
done
echo "pcscd did not become ready within 10 s (socket $SOCKET, vpcd port $VPCD_PORT)" >&2
exit 1
