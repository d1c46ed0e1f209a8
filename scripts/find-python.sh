#!/usr/bin/env bash
# Print the path of a Python (>= 3.10) whose sqlite3 module can load extensions, which the
# SpatiaLite backend needs. pyenv and other source builds often lack it, so the distribution's
# Python is preferred. $PYTHON, when set, is tried first.
set -euo pipefail

probe='import sqlite3, sys, venv, ensurepip
assert sys.version_info >= (3, 10)
sqlite3.connect(":memory:").enable_load_extension(True)'

candidates=()
[ -n "${PYTHON:-}" ] && candidates+=("$PYTHON")
for v in 3.13 3.12 3.11 3.10; do candidates+=("/usr/bin/python$v"); done
candidates+=(/usr/bin/python3 "$(command -v python3 || true)")
if command -v pyenv >/dev/null; then
  for p in "$(pyenv root)"/versions/3.*/bin/python3; do candidates+=("$p"); done
fi

tried=()
for py in "${candidates[@]}"; do
  [ -n "$py" ] && [ -x "$py" ] || continue
  if "$py" -c "$probe" 2>/dev/null; then
    echo "$py"
    exit 0
  fi
  tried+=("$py")
done

if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null && [ -z "${FIND_PYTHON_RETRY:-}" ]; then
  echo "No Python here can load SQLite extensions; installing the distribution's python3 and python3-venv." >&2
  DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends python3 python3-venv >&2
  FIND_PYTHON_RETRY=1 exec "$0"
fi

echo "No usable Python found. Fieldtrace needs Python >= 3.10 with venv, whose sqlite3 module can" >&2
echo "load extensions (SpatiaLite). Tried: ${tried[*]:-nothing}" >&2
echo "Install the distribution's python3 and python3-venv, or set PYTHON=/path/to/python3." >&2
exit 1
