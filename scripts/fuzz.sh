#!/usr/bin/env bash
# Builds and runs the libFuzzer targets of Tests/Fuzz: `frontend` (the whole check/build pipeline
# on arbitrary bytes) and `lsp` (the language server on an arbitrary stdin).
#   scripts/fuzz.sh [SECONDS_PER_TARGET] [TARGET...]     (default: 300 s, both targets)
# Built with -sanitize=fuzzer,address, optimised, with assertions on (a parser loop that makes no
# progress fails one). Seeds: examples/ and the golden programs for `frontend`, the editing
# sessions in Tests/Fuzz/seeds/lsp for `lsp`; what a run learns stays in .build/fuzz/corpus.
# A finding (crash, assertion, leak, or a unit over 10 s: a hang) stops the run with status 1
# and leaves its input in .build/fuzz/findings; make it a regression case (Tests/Golden/check/
# recovery_*.inf for the front end) before fixing it.
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_PER_TARGET=${1:-300}
shift || true
TARGETS=("$@")
[ ${#TARGETS[@]} -gt 0 ] || TARGETS=(frontend lsp)
SWIFTC=${SWIFTC:-swiftc}
OUT=.build/fuzz
mkdir -p "$OUT/lib" "$OUT/findings"
FLAGS=(-O -assert-config Debug -enforce-exclusivity=checked -sanitize=fuzzer,address -parse-as-library -I "$OUT/lib" -L "$OUT/lib")

# One static library per module, rebuilt when a source is newer than it.
library() {
    local name=$1; shift
    local lib="$OUT/lib/lib$name.a"
    local sources; sources=$(find "Sources/$name" -name '*.swift' | sort)
    if [ ! -f "$lib" ] || [ -n "$(find "Sources/$name" -name '*.swift' -newer "$lib")" ]; then
        echo "fuzz: building $name" >&2
        # shellcheck disable=SC2086
        "$SWIFTC" "${FLAGS[@]}" -module-name "$name" -emit-module -emit-module-path "$OUT/lib/$name.swiftmodule" \
            -emit-library -static -o "$lib" "$@" $sources
    fi
}

library InfcCompiler
library InfcLanguageServer

build_target() {
    local target=$1 source=$2; shift 2
    local exe="$OUT/$target-fuzzer"
    if [ ! -f "$exe" ] || [ "$source" -nt "$exe" ] || [ "$OUT/lib/libInfcCompiler.a" -nt "$exe" ] || [ "$OUT/lib/libInfcLanguageServer.a" -nt "$exe" ]; then
        echo "fuzz: building $exe" >&2
        "$SWIFTC" "${FLAGS[@]}" "$source" -o "$exe" "$@" 2> >(grep -v "Cannot export local symbol" >&2)
    fi
}

# The seed corpus: copies of the committed programs and sessions, so libFuzzer reads only those.
seeds() {
    local target=$1 dir="$OUT/seeds/$1"
    rm -rf "$dir"; mkdir -p "$dir"
    case $target in
        frontend) cp examples/*.inf Tests/Golden/check/*.inf Tests/Golden/plan/*.inf Tests/Golden/emit/*.inf templates/*/*.inf "$dir"/ 2>/dev/null || true ;;
        lsp) cp Tests/Fuzz/seeds/lsp/* "$dir"/ ;;
    esac
    echo "$dir"
}

status=0
for target in "${TARGETS[@]}"; do
    case $target in
        frontend) build_target frontend Tests/Fuzz/FrontendFuzzer.swift -lInfcCompiler ;;
        lsp) build_target lsp Tests/Fuzz/LanguageServerFuzzer.swift -lInfcLanguageServer -lInfcCompiler ;;
        *) echo "fuzz: unknown target $target (frontend, lsp)" >&2; exit 2 ;;
    esac
    # Both targets check for leaks after every input. (The language server's target once reported
    # syntax-node boxes there: its worker thread was still freeing the session's compilations
    # when the input returned; the worker now frees them before `stop` returns.)
    extra=() asan=${ASAN_OPTIONS:-}
    corpus="$OUT/corpus/$target"
    mkdir -p "$corpus"
    seed_dir=$(seeds "$target")
    echo "fuzz: $target for ${SECONDS_PER_TARGET}s" >&2
    if ! ASAN_OPTIONS="$asan" "$OUT/$target-fuzzer" "$corpus" "$seed_dir" -max_total_time="$SECONDS_PER_TARGET" -timeout=10 \
            -rss_limit_mb=4096 -max_len=65536 -artifact_prefix="$OUT/findings/$target-" -print_final_stats=1 "${extra[@]}" \
            >"$OUT/$target.log" 2>&1; then
        echo "fuzz: $target found a problem; see $OUT/$target.log and $OUT/findings/" >&2
        tail -40 "$OUT/$target.log" >&2
        status=1
    else
        grep -E "^stat::number_of_executed_units|^Done" "$OUT/$target.log" | sed "s/^/fuzz: $target: /" >&2 || true
    fi
done
exit $status
