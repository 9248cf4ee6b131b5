#!/usr/bin/env python3
"""Benchmarks of `infc lsp` (not timed tests; `make bench` runs them).

Measures, on a deterministic generated file of 2,000 lines:
  - the time from a didChange to the publishDiagnostics for that version, over 200 edits inside
    handler bodies (in a string literal: the server patches the diagnostics), with the server's
    debounce off (`infc lsp --debounce-ms 0`: analysis and publication only) and at its default
    (what an editor sees: the debounce delay plus the analysis);
  - the same with the debounce off for 200 edits in route headers (the path literal), which the
    server compiles in full;
  - the server's resident memory after 1,000 edits (sent in bursts, as an editor types them).

    python3 scripts/bench_lsp.py --infc .build/release/infc --out bench/lsp.json

Writes JSON to --out (and a summary to stdout):
  {"file_lines": 2000,
   "didchange_to_diagnostics_ms": {"median", "p95", "samples", "debounce_ms": 0},
   "didchange_to_diagnostics_default_debounce_ms": {"median", "p95", "samples", "debounce_ms": null},
   "didchange_to_diagnostics_full_compile_ms": {"median", "p95", "samples", "debounce_ms": 0},
   "memory_after_open_mb", "memory_after_1000_edits_mb", ...}
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import threading
import time

URI = "file:///tmp/infc-bench/big.inf"
FILE_LINES = 2000
LATENCY_EDITS = 200
MEMORY_EDITS = 1000
WARMUP_EDITS = 10


def generate(lines_wanted: int = FILE_LINES) -> str:
    """A valid program of exactly `lines_wanted` lines: resources, then routes that start fns
    behind queues (which call a limited service and publish), then a subscriber. Deterministic."""
    head = ["app bench { max_resources: 100000 }", "table orders", "topic events",
            'service api "https://api.example.com" limit 500', ""]
    tail = ["on events (e) {", "  log(e)", "}"]
    block = 11
    handlers = (lines_wanted - len(head) - len(tail)) // block
    lines = list(head)
    for i in range(handlers):
        lines += [
            f'route POST "/orders/{i}" (req) {{',
            f'  let order = {{ id: uuid(), n: {i}, note: "café {i}" }}',
            "  orders.put(order.id, order)",
            f"  async work_{i}(order)",
            "  return { status: 202, body: order }",
            "}",
            f"fn work_{i}(order) retry 2 {{",
            '  let r = api.post("/x", { id: order.id })',
            "  events.publish({ id: order.id, r: r })",
            "}",
            "",
        ]
    while len(lines) + len(tail) < lines_wanted:
        lines.append("// padding")
    lines += tail
    return "\n".join(lines) + "\n"


def edit_positions(text: str, marker: str = 'note: "'):
    """Where edits go: just after each `marker` (by default inside each `note: "` string of a
    route's body; valid code before and after the edit)."""
    out = []
    for n, line in enumerate(text.split("\n")):
        at = line.find(marker)
        if at >= 0:
            prefix = line[: at + len(marker)]
            out.append((n, len(prefix.encode("utf-16-le")) // 2))
    return out


HEADER_MARKER = 'route POST "/orders/'   # inside a route's path: a header edit, compiled in full


class Server:
    def __init__(self, infc, args):
        self.p = subprocess.Popen([infc, "lsp", *args], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        self.cv = threading.Condition()
        self.messages = []
        self.next_id = 1
        threading.Thread(target=self.read, daemon=True).start()

    def read(self):
        f = self.p.stdout
        while True:
            length = None
            while True:
                header = f.readline()
                if not header:
                    return
                if header in (b"\r\n", b"\n"):
                    break
                name, _, value = header.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value)
            message = json.loads(f.read(length))
            with self.cv:
                self.messages.append(message)
                self.cv.notify_all()

    def send(self, message):
        body = json.dumps(message).encode()
        self.p.stdin.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
        self.p.stdin.flush()

    def request(self, method, params=None):
        rid = self.next_id
        self.next_id += 1
        self.send({"jsonrpc": "2.0", "id": rid, "method": method, "params": params or {}})
        return self.wait(lambda m: m.get("id") == rid)

    def notify(self, method, params):
        self.send({"jsonrpc": "2.0", "method": method, "params": params})

    def wait(self, predicate, timeout=60):
        deadline = time.monotonic() + timeout
        with self.cv:
            while True:
                for i, m in enumerate(self.messages):
                    if predicate(m):
                        message = self.messages.pop(i)
                        # Older diagnostics are stale by now: drop them.
                        self.messages = [x for x in self.messages if x.get("method") != "textDocument/publishDiagnostics"]
                        return message
                remaining = deadline - time.monotonic()
                if remaining <= 0 or not self.cv.wait(remaining):
                    raise TimeoutError("no answer from the server")

    def diagnostics(self, version):
        return self.wait(lambda m: m.get("method") == "textDocument/publishDiagnostics"
                         and m["params"].get("uri") == URI and m["params"].get("version") == version)

    def rss_mb(self):
        try:
            with open(f"/proc/{self.p.pid}/status") as f:
                return round(next(int(l.split()[1]) for l in f if l.startswith("VmRSS:")) / 1024, 1)
        except (OSError, StopIteration):
            return None

    def open(self, text):
        self.request("initialize", {"processId": os.getpid(), "capabilities": {}})
        self.notify("initialized", {})
        self.notify("textDocument/didOpen",
                    {"textDocument": {"uri": URI, "languageId": "infc", "version": 1, "text": text}})
        diagnostics = self.diagnostics(1)["params"]["diagnostics"]
        errors = [d for d in diagnostics if d.get("severity") == 1]
        if errors:
            raise SystemExit(f"the generated file does not compile: {errors[:3]}")

    def change(self, version, line, character, insert):
        end = character if insert else character + 1
        self.notify("textDocument/didChange", {
            "textDocument": {"uri": URI, "version": version},
            "contentChanges": [{"range": {"start": {"line": line, "character": character},
                                          "end": {"line": line, "character": end}},
                                "text": "x" if insert else ""}]})

    def close(self):
        try:
            self.request("shutdown")
            self.notify("exit", {})
            self.p.wait(10)
        except Exception:
            self.p.kill()


def edits(positions, count):
    """Deterministic edits: insert a character in one string, then remove it, moving through the file."""
    for k in range(count):
        line, character = positions[(k // 2 * 37) % len(positions)]
        yield line, character, k % 2 == 0


def percentile(samples, p):
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered)) - 1))]


def latency(infc, text, args, edit_count, marker='note: "'):
    """didChange → publishDiagnostics of that version, one edit at a time."""
    s = Server(infc, args)
    try:
        s.open(text)
        positions = edit_positions(text, marker)
        version = 1
        samples = []
        for n, (line, character, insert) in enumerate(edits(positions, WARMUP_EDITS + edit_count)):
            version += 1
            start = time.perf_counter()
            s.change(version, line, character, insert)
            s.diagnostics(version)
            if n >= WARMUP_EDITS:
                samples.append((time.perf_counter() - start) * 1000)
        return {"median": round(statistics.median(samples), 2), "p95": round(percentile(samples, 95), 2),
                "samples": len(samples)}
    finally:
        s.close()


def memory(infc, text, edit_count):
    """Resident memory after open and after `edit_count` edits sent in bursts of 20."""
    s = Server(infc, [])
    try:
        s.open(text)
        after_open = s.rss_mb()
        positions = edit_positions(text)
        version = 1
        for n, (line, character, insert) in enumerate(edits(positions, edit_count)):
            version += 1
            s.change(version, line, character, insert)
            if n % 20 == 19 or n == edit_count - 1:
                s.diagnostics(version)   # the burst's diagnostics: an editor pauses between bursts
        return after_open, s.rss_mb()
    finally:
        s.close()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    default = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".build", "release", "infc")
    parser.add_argument("--infc", default=default, help="the infc binary (default .build/release/infc)")
    parser.add_argument("--out", help="write the results as JSON to this file")
    parser.add_argument("--edits", type=int, default=LATENCY_EDITS, help="edits timed per latency run (200)")
    options = parser.parse_args()
    if not os.access(options.infc, os.X_OK):
        raise SystemExit(f"no infc binary at {options.infc} (build it, or pass --infc PATH)")

    text = generate()
    file_lines = text.count("\n")
    no_debounce = latency(options.infc, text, ["--debounce-ms", "0"], options.edits)
    no_debounce["debounce_ms"] = 0
    with_debounce = latency(options.infc, text, [], options.edits)
    with_debounce["debounce_ms"] = None   # the server's default
    full_compile = latency(options.infc, text, ["--debounce-ms", "0"], options.edits, HEADER_MARKER)
    full_compile["debounce_ms"] = 0
    after_open, after_edits = memory(options.infc, text, MEMORY_EDITS)
    result = {
        "file_lines": file_lines,
        "didchange_to_diagnostics_ms": no_debounce,
        "didchange_to_diagnostics_default_debounce_ms": with_debounce,
        "didchange_to_diagnostics_full_compile_ms": full_compile,
        "memory_after_open_mb": after_open,
        "memory_after_1000_edits_mb": after_edits,
        "infc": os.path.abspath(options.infc),
    }
    print(f"file: {file_lines} lines")
    print(f"didChange → publishDiagnostics, debounce 0: median {no_debounce['median']} ms, "
          f"p95 {no_debounce['p95']} ms ({no_debounce['samples']} edits)")
    print(f"didChange → publishDiagnostics, default debounce: median {with_debounce['median']} ms, "
          f"p95 {with_debounce['p95']} ms ({with_debounce['samples']} edits)")
    print(f"didChange in a route header → publishDiagnostics (full compile), debounce 0: median {full_compile['median']} ms, "
          f"p95 {full_compile['p95']} ms ({full_compile['samples']} edits)")
    print(f"memory: {after_open} MB after open, {after_edits} MB after {MEMORY_EDITS} edits")
    if options.out:
        directory = os.path.dirname(os.path.abspath(options.out))
        os.makedirs(directory, exist_ok=True)
        with open(options.out, "w") as f:
            json.dump(result, f, indent=2, ensure_ascii=False)
            f.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
