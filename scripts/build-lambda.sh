#!/usr/bin/env bash
# Builds `infc-lambda`, the Lambda custom runtime (the `bootstrap` of a package), as one static
# executable: the Swift runtime, Foundation, SQLite's and OpenSSL's static archives and glibc all
# linked in, so it loads on Amazon Linux 2023 (provided.al2023, glibc 2.34) or anywhere else, with
# no shared library and no symbol version to satisfy. Stripped; written beside the release `infc`.
#   scripts/build-lambda.sh [SCRATCH_DIR]
set -euo pipefail
swift=${SWIFT:-swift}
scratch=${1:-.build}
"$swift" build -c release --product infc-lambda --scratch-path "$scratch" \
  --static-swift-stdlib -Xswiftc -static-executable -Xlinker --gc-sections -Xlinker -s
bin=$("$swift" build -c release --scratch-path "$scratch" --show-bin-path)
# The loader would refuse nothing, but the tests and the package rely on it being static.
if (ldd "$bin/infc-lambda" 2>&1 || true) | grep -q 'not a dynamic executable'; then
  echo "built $bin/infc-lambda (static, $(stat -c %s "$bin/infc-lambda") bytes)"
else
  echo "infc-lambda: the build is not static" >&2
  exit 1
fi
