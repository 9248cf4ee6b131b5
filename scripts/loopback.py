"""What infc's loopback test servers share: serve a handler class on 127.0.0.1 only (a free port),
print "PORT <n>" when listening, and stop when standard input closes, so a server never outlives
the test that started it."""
import os
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class QuietHandler(BaseHTTPRequestHandler):
    """The test servers' handler base: HTTP/1.1 keep-alive, no request log, Nagle off (headers and
    body are two writes: no delayed-ACK stall), the body read by its length, answers with theirs."""
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True

    def log_message(self, *args):
        pass

    def body(self):
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def reply(self, status, body=b"", headers=()):
        self.send_response(status)
        for k, v in headers:
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def start(handler, wrap=None):
    """Starts a threading server for `handler` on 127.0.0.1 (socket wrapped by `wrap`, e.g. TLS)."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    if wrap is not None:
        server.socket = wrap(server.socket)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def main(handler, wrap=None, on_exit=None):
    """Serves `handler`, announces the port, and exits (after `on_exit`) when stdin closes."""
    server = start(handler, wrap)
    print(f"PORT {server.server_address[1]}", flush=True)
    sys.stdin.read()
    if on_exit is not None:
        on_exit()
    os._exit(0)
