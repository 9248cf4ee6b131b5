#!/usr/bin/env bash
# Installs what the test suite needs beyond the Swift toolchain, when it is missing:
# libsqlite3-dev (the runtime's state store), graphviz (`dot` renders every example's graph in
# the tests) and pytest-lsp (the third-party LSP client test).
set -euo pipefail
need_apt=()
[ -f /usr/include/sqlite3.h ] || need_apt+=(libsqlite3-dev)
command -v dot >/dev/null 2>&1 || need_apt+=(graphviz)
if [ ${#need_apt[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then
    echo "installing ${need_apt[*]} (test dependencies)"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_apt[@]}" >/dev/null
  else
    echo "missing ${need_apt[*]}: install them with 'sudo apt-get install ${need_apt[*]}'" >&2
    exit 2
  fi
fi

# pytest-lsp: a third-party LSP client that drives `infc lsp` (scripts/lsp_client_test.py).
if command -v python3 >/dev/null 2>&1 && ! python3 -c "import pytest_lsp" >/dev/null 2>&1; then
  echo "installing pytest-lsp (test dependency)"
  python3 -m pip install --quiet --disable-pip-version-check pytest-lsp \
    || python3 -m pip install --quiet --disable-pip-version-check --break-system-packages pytest-lsp
fi
