#!/usr/bin/env bash
# Installs what the test suite needs beyond the Swift toolchain, when it is missing:
# libsqlite3-dev (the runtime's state store), libssl-dev (HTTPS for the AWS clients; its static
# archives let the Lambda bootstrap link statically), zlib1g-dev (deflate for the code package's
# zip), unzip (the package tests read it back with `unzip -t`), the openssl command (the TLS tests make a
# test CA with it), graphviz (`dot` renders every example's graph in the tests), neovim,
# emacs-nox and elpa-eglot, vim and vim-ale (real editors driving the language server) and the pinned Python
# tools of scripts/test-requirements.txt.
set -euo pipefail
need_apt=()
[ -f /usr/include/sqlite3.h ] || need_apt+=(libsqlite3-dev)
[ -f /usr/include/openssl/ssl.h ] || need_apt+=(libssl-dev)
[ -f /usr/include/zlib.h ] || need_apt+=(zlib1g-dev)
command -v openssl >/dev/null 2>&1 || need_apt+=(openssl)
command -v unzip >/dev/null 2>&1 || need_apt+=(unzip)
command -v dot >/dev/null 2>&1 || need_apt+=(graphviz)
# Neovim (Debian's, 0.7.2 on bookworm): a real client of `infc lsp` in EditorClientTests.
command -v nvim >/dev/null 2>&1 || need_apt+=(neovim)
# Emacs 28 (bookworm) with eglot 1.9 from elpa-eglot: the other real client.
command -v emacs >/dev/null 2>&1 || need_apt+=(emacs-nox)
dpkg -s elpa-eglot >/dev/null 2>&1 || need_apt+=(elpa-eglot)
# Vim 9.0 with ALE 3.3 (vim-ale): the third editor.
command -v vim >/dev/null 2>&1 || need_apt+=(vim)
[ -f /usr/share/vim-ale/autoload/ale.vim ] || need_apt+=(vim-ale)
if [ ${#need_apt[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then
    echo "installing ${need_apt[*]} (test dependencies)"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_apt[@]}" >/dev/null
  else
    echo "missing ${need_apt[*]}: install them with 'sudo apt-get install ${need_apt[*]}'" >&2
    exit 2
  fi
fi

# Python tools, pinned in scripts/test-requirements.txt: pytest-lsp (a third-party LSP client that
# drives `infc lsp`), moto in server mode (the AWS emulator) and cfn-lint (the template linter).
# pip is asked only when a pin is not met already.
if command -v python3 >/dev/null 2>&1; then
  here=$(dirname "$0")
  if ! python3 "$here/check-pins.py" "$here/test-requirements.txt"; then
    echo "installing the pinned Python test tools (scripts/test-requirements.txt)"
    python3 -m pip install --quiet --disable-pip-version-check -r "$here/test-requirements.txt" \
      || python3 -m pip install --quiet --disable-pip-version-check --break-system-packages -r "$here/test-requirements.txt"
  fi
fi
