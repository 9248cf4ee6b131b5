#!/usr/bin/env python3
"""A Lambda Runtime API (2018-06-01) for infc's runtime tests, on 127.0.0.1 only.

As a script: hands out the events of the JSON list in EVENTS_FILE one per `next` (request ids
req-0, req-1, ...; then 410, which ends the bootstrap), records every response, error and init
error, and lists them at GET /_results. Prints "PORT <n>" when it listens and stops when its
standard input closes.

    lambda_runtime_api.py EVENTS_FILE

As a module (scripts/lambda_service.py): `RuntimeAPI()` serves one container, `invoke(event)`
hands it an event (the container's `next` waits for one, as Lambda's does) and waits for its
answer."""
import json
import queue
import sys
import threading

import loopback

PREFIX = "/2018-06-01/runtime/"


class RuntimeAPI:
    """One container's Runtime API. `finite` ends `next` with 410 once the events run out."""

    def __init__(self, events=(), finite=False, function_arn="arn:aws:lambda:us-east-1:123456789012:function:shop-api"):
        self.lock = threading.Lock()
        self.events = queue.Queue()
        for e in events:
            self.events.put(e)
        self.finite = finite
        self.function_arn = function_arn
        self.count = 0
        self.results = []
        self.answers = {}
        self.answered = threading.Condition(self.lock)
        api = self

        class Handler(loopback.QuietHandler):
            def do_GET(self):
                if self.path == "/_results":
                    with api.lock:
                        body = json.dumps(api.results).encode()
                    return self.reply(200, body, [("Content-Type", "application/json")])
                if self.path != PREFIX + "invocation/next":
                    return self.reply(404)
                if api.finite and api.events.empty():
                    return self.reply(410, b"no more events")
                event = api.events.get()
                with api.lock:
                    i = api.count
                    api.count += 1
                self.reply(200, json.dumps(event).encode(), [
                    ("Lambda-Runtime-Aws-Request-Id", f"req-{i}"),
                    ("Lambda-Runtime-Deadline-Ms", "1893456000000"),
                    ("Lambda-Runtime-Invoked-Function-Arn", api.function_arn),
                    ("Lambda-Runtime-Trace-Id", f"Root=1-00000000-{i:024d};Sampled=1"),
                    ("Content-Type", "application/json")])

            def do_POST(self):
                body = self.body().decode("utf-8", "replace")
                path = self.path[len(PREFIX):] if self.path.startswith(PREFIX) else None
                if path == "init/error":
                    kind, request = "init-error", None
                elif path and path.startswith("invocation/") and path.count("/") == 2:
                    _, request, kind = path.split("/")
                    if kind not in ("response", "error"):
                        return self.reply(404)
                else:
                    return self.reply(404)
                result = {"kind": kind, "request": request, "body": body,
                          "errorType": self.headers.get("Lambda-Runtime-Function-Error-Type")}
                with api.lock:
                    api.results.append(result)
                    api.answers[request] = result
                    api.answered.notify_all()
                self.reply(202, b'{"status":"OK"}')

        self.handler = Handler

    def start(self):
        self.server = loopback.start(self.handler)
        return self.server.server_address[1]

    def stop(self):
        self.server.shutdown()
        self.server.server_close()

    def invoke(self, event, alive, timeout=60):
        """Hands `event` to the container and waits for its answer (`{kind, body, errorType}`),
        or for an init error; None when `alive()` turns false or the time runs out."""
        with self.lock:
            request = f"req-{self.count}"
        self.events.put(event)
        with self.lock:
            for _ in range(int(timeout * 10)):
                if request in self.answers:
                    return self.answers.pop(request)
                if None in self.answers:
                    return self.answers.pop(None)
                if not alive():
                    return None
                self.answered.wait(0.1)
        return None


if __name__ == "__main__":
    api = RuntimeAPI(json.load(open(sys.argv[1])), finite=True)
    loopback.main(api.handler)
