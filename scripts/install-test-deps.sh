#!/usr/bin/env bash
# Installs what the test suite needs beyond the Swift toolchain, when it is missing:
# libsqlite3-dev (the runtime's state store).
set -euo pipefail
need_apt=()
[ -f /usr/include/sqlite3.h ] || need_apt+=(libsqlite3-dev)
if [ ${#need_apt[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then
    echo "installing ${need_apt[*]} (test dependencies)"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_apt[@]}" >/dev/null
  else
    echo "missing ${need_apt[*]}: install them with 'sudo apt-get install ${need_apt[*]}'" >&2
    exit 2
  fi
fi
