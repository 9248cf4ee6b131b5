#!/usr/bin/env python3
"""A small HTTP/1.1 server for infc's HTTP client tests, on 127.0.0.1 only: plain, or TLS with the
certificate and key given. Prints "PORT <n>" when it listens and stops when its standard input
closes (so it never outlives the test that started it).

    http_test_server.py [--cert FILE --key FILE]

Paths: /echo (the request as JSON, with the client's port), /chunked (a chunked body),
/close (answers, then closes the connection), /silent-close (closes without saying so), /bytes?n=N (N bytes 0..255 repeating)."""
import base64
import json
import ssl
import sys
from http.server import BaseHTTPRequestHandler
from urllib.parse import parse_qs, urlsplit

import loopback


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def answer(self, status, body, headers=()):
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def handle_any(self):
        length = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(length) if length else b""
        url = urlsplit(self.path)
        if url.path == "/echo":
            echo = {
                "method": self.command,
                "target": self.path,
                "headers": [[k, v] for k, v in self.headers.items()],
                "body": base64.b64encode(body).decode(),
                "clientPort": self.client_address[1],
            }
            self.answer(200, json.dumps(echo).encode(), [("Content-Type", "application/json")])
        elif url.path == "/chunked":
            self.send_response(200)
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for chunk in [b"hello, ", b"chunked ", b"", b"world"]:
                if chunk:
                    self.wfile.write(b"%x;ext=1\r\n%s\r\n" % (len(chunk), chunk))
            self.wfile.write(b"0\r\nX-Trailer: yes\r\n\r\n")
        elif url.path == "/close":
            self.answer(200, b"bye", [("Connection", "close")])
            self.close_connection = True
        elif url.path == "/silent-close":
            self.answer(200, b"kept?")  # says nothing, then closes: a kept-alive connection gone stale
            self.close_connection = True
        elif url.path == "/bytes":
            n = int(parse_qs(url.query).get("n", ["0"])[0])
            self.answer(200, bytes(i % 256 for i in range(n)))
        else:
            self.answer(404, b"not found")

    do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = handle_any


def main():
    args = sys.argv[1:]
    wrap = None
    if "--cert" in args:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(args[args.index("--cert") + 1], args[args.index("--key") + 1])
        wrap = lambda sock: context.wrap_socket(sock, server_side=True)
    loopback.main(Handler, wrap)


if __name__ == "__main__":
    main()
