#!/usr/bin/env python3
"""A Lambda Runtime API (2018-06-01) for infc's runtime tests, on 127.0.0.1 only. Hands out the
events of the JSON list in EVENTS_FILE one per `next` (request ids req-0, req-1, ...), records
every response, error and init error, and lists them at GET /_results. Prints "PORT <n>" when it
listens and stops when its standard input closes.

    lambda_runtime_api.py EVENTS_FILE"""
import json
import os
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

EVENTS = json.load(open(sys.argv[1]))
LOCK = threading.Lock()
STATE = {"next": 0, "results": []}
PREFIX = "/2018-06-01/runtime/"


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True   # headers and body are two writes: no delayed-ACK stall

    def log_message(self, *args):
        pass

    def reply(self, status, body=b"", headers=()):
        self.send_response(status)
        for k, v in headers:
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        if self.path == "/_results":
            with LOCK:
                body = json.dumps(STATE["results"]).encode()
            return self.reply(200, body, [("Content-Type", "application/json")])
        if self.path != PREFIX + "invocation/next":
            return self.reply(404)
        with LOCK:
            i = STATE["next"]
            STATE["next"] += 1
        if i >= len(EVENTS):
            return self.reply(410, b"no more events")
        self.reply(200, json.dumps(EVENTS[i]).encode(), [
            ("Lambda-Runtime-Aws-Request-Id", f"req-{i}"),
            ("Lambda-Runtime-Deadline-Ms", "1893456000000"),
            ("Lambda-Runtime-Invoked-Function-Arn", "arn:aws:lambda:us-east-1:123456789012:function:shop-api"),
            ("Lambda-Runtime-Trace-Id", f"Root=1-00000000-{i:024d};Sampled=1"),
            ("Content-Type", "application/json")])

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0"))).decode("utf-8", "replace")
        path = self.path[len(PREFIX):] if self.path.startswith(PREFIX) else None
        if path == "init/error":
            kind, request = "init-error", None
        elif path and path.startswith("invocation/") and path.count("/") == 2:
            _, request, kind = path.split("/")
            if kind not in ("response", "error"):
                return self.reply(404)
        else:
            return self.reply(404)
        with LOCK:
            STATE["results"].append({"kind": kind, "request": request, "body": body,
                                     "errorType": self.headers.get("Lambda-Runtime-Function-Error-Type")})
        self.reply(202, b'{"status":"OK"}')


def main():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    print(f"PORT {server.server_address[1]}", flush=True)
    sys.stdin.read()
    os._exit(0)


if __name__ == "__main__":
    main()
