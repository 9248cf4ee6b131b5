#!/usr/bin/env python3
"""Benchmarks of `infc lsp` (not timed tests): the time from a didChange on a 2,000-line file to
its publishDiagnostics, and the server's memory after 1,000 edits.

    python3 scripts/bench_lsp.py [path/to/infc]     (default .build/release/infc)
"""
import json
import os
import statistics
import subprocess
import sys
import threading
import time

INFC = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", ".build", "release", "infc")
URI = "file:///tmp/infc-bench/big.inf"


def program(handlers: int) -> str:
    lines = ["app bench", "table orders", "topic events", 'service api "https://api.example.com" limit 10', ""]
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
            '  events.publish({ id: order.id, r: r })',
            "}",
            "",
        ]
    lines += ["on events (e) {", "  log(e)", "}"]
    return "\n".join(lines) + "\n"


class Server:
    def __init__(self):
        self.p = subprocess.Popen([INFC, "lsp"], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        self.cv = threading.Condition()
        self.messages = []
        threading.Thread(target=self.read, daemon=True).start()

    def read(self):
        f = self.p.stdout
        while True:
            header = f.readline()
            if not header:
                return
            length = int(header.split(b":")[1])
            f.readline()
            message = json.loads(f.read(length))
            with self.cv:
                self.messages.append(message)
                self.cv.notify_all()

    def send(self, message):
        body = json.dumps(message).encode()
        self.p.stdin.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
        self.p.stdin.flush()

    def wait(self, predicate, timeout=30):
        deadline = time.monotonic() + timeout
        with self.cv:
            while True:
                for i, m in enumerate(self.messages):
                    if predicate(m):
                        return self.messages.pop(i)
                if not self.cv.wait(deadline - time.monotonic()):
                    raise TimeoutError("no answer from the server")

    def diagnostics(self, version):
        return self.wait(lambda m: m.get("method") == "textDocument/publishDiagnostics"
                         and m["params"].get("version") == version)

    def rss_kib(self):
        with open(f"/proc/{self.p.pid}/status") as f:
            return next(int(l.split()[1]) for l in f if l.startswith("VmRSS:"))


def main():
    text = program(181)  # 11 lines each: ~2,000 lines
    s = Server()
    s.send({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"capabilities": {}}})
    s.wait(lambda m: m.get("id") == 1)
    s.send({"jsonrpc": "2.0", "method": "initialized", "params": {}})
    s.send({"jsonrpc": "2.0", "method": "textDocument/didOpen",
            "params": {"textDocument": {"uri": URI, "languageId": "infc", "version": 1, "text": text}}})
    s.diagnostics(1)
    print(f"file: {text.count(chr(10))} lines")

    # Latency: one edit, then wait for its diagnostics (includes the ~50 ms debounce).
    samples = []
    version = 1
    line = text.count("\n") - 2
    for k in range(30):
        version += 1
        start = time.monotonic()
        s.send({"jsonrpc": "2.0", "method": "textDocument/didChange", "params": {
            "textDocument": {"uri": URI, "version": version},
            "contentChanges": [{"range": {"start": {"line": line, "character": 2}, "end": {"line": line, "character": 2}},
                                "text": "x" if k % 2 == 0 else ""}]}})
        s.diagnostics(version)
        samples.append((time.monotonic() - start) * 1000)
    print(f"didChange → publishDiagnostics: median {statistics.median(samples):.1f} ms, "
          f"max {max(samples):.1f} ms (30 edits, debounce included)")

    # Memory after 1,000 edits (typed in bursts, as an editor sends them).
    before = s.rss_kib()
    for k in range(1000):
        version += 1
        s.send({"jsonrpc": "2.0", "method": "textDocument/didChange", "params": {
            "textDocument": {"uri": URI, "version": version},
            "contentChanges": [{"range": {"start": {"line": line, "character": 2}, "end": {"line": line, "character": 2}},
                                "text": "y"}]}})
    s.diagnostics(version)
    print(f"memory: {before / 1024:.1f} MiB after open, {s.rss_kib() / 1024:.1f} MiB after 1,000 edits")

    s.send({"jsonrpc": "2.0", "id": 2, "method": "shutdown"})
    s.wait(lambda m: m.get("id") == 2)
    s.send({"jsonrpc": "2.0", "method": "exit"})
    s.p.wait(10)


if __name__ == "__main__":
    main()
