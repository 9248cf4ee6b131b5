#!/usr/bin/env bash
# Builds the release `infc` and `infc-runtime` with the Swift runtime and Foundation linked
# statically: a process then starts without relocating libswiftCore and Foundation, and holds
# fewer pages. Falls back to the shared runtime if the static link is not possible.
#   scripts/build-release.sh [SCRATCH_DIR]
set -euo pipefail
swift=${SWIFT:-swift}
scratch=${1:-.build}
shims="$scratch/link-shims"
mkdir -p "$shims"
# Foundation's networking library links libcurl. Without libcurl's -dev package there is no
# libcurl.so for the linker, only the runtime's libcurl.so.4: point the linker at that.
if ! ldconfig -p 2>/dev/null | grep -q 'libcurl\.so '; then
  lib=$(ldconfig -p 2>/dev/null | awk '/libcurl\.so\.4 / { print $NF; exit }')
  if [ -n "$lib" ]; then ln -sf "$lib" "$shims/libcurl.so"; fi
fi
# Two executables: infc (the compiler) and infc-runtime (the local runtime, which alone links the
# network client, so libcurl); `infc run` hands over to the second.
build() {
  "$swift" build -c release --product infc --scratch-path "$scratch" "$@" &&
    "$swift" build -c release --product infc-runtime --scratch-path "$scratch" "$@"
}
if build --static-swift-stdlib -Xlinker -L"$shims"; then
  exit 0
fi
echo "infc: the static link failed; building with the shared Swift runtime instead" >&2
build
