#!/usr/bin/env bash
# Installs what `make bench` compares against, when missing: wrk and nginx (Debian), Flask and
# moto's server + boto3 (PyPI). Idempotent; anything it cannot install is skipped with a note and
# bench/run.py then skips that comparison (and says so in the results).
set -uo pipefail
apt_need=()
command -v wrk >/dev/null 2>&1 || apt_need+=(wrk)
command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || apt_need+=(nginx-light)
if [ ${#apt_need[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "bench deps: apt-get install ${apt_need[*]}"
    apt-get update -qq >/dev/null 2>&1 || true
    for p in "${apt_need[@]}"; do
      if ! DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$p" >/dev/null 2>&1; then
        if [ "$p" = nginx-light ] && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends nginx >/dev/null 2>&1; then
          continue
        fi
        echo "bench deps: could not install $p; its comparison will be skipped" >&2
      fi
    done
  else
    echo "bench deps: missing ${apt_need[*]} (run 'sudo apt-get install ${apt_need[*]}'); skipped" >&2
  fi
fi
if command -v python3 >/dev/null 2>&1; then
  pip_need=()
  python3 -c "import flask" >/dev/null 2>&1 || pip_need+=(flask)
  python3 -c "import moto.server, boto3, flask_cors" >/dev/null 2>&1 || pip_need+=("moto[server]" boto3)
  if [ ${#pip_need[@]} -gt 0 ]; then
    echo "bench deps: pip install ${pip_need[*]}"
    python3 -m pip install --quiet --disable-pip-version-check "${pip_need[@]}" 2>/dev/null \
      || python3 -m pip install --quiet --disable-pip-version-check --break-system-packages "${pip_need[@]}" \
      || echo "bench deps: could not pip install ${pip_need[*]}; skipped" >&2
  fi
fi
exit 0
