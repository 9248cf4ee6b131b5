"""What the AWS tests share: one moto server (server mode, loopback) per test session, behind a
loopback shim.

moto's own service calls (Step Functions calling Lambda, DynamoDB, SNS, SQS) go to `MOTO_PORT`:
it is the shim's port. The shim passes every request on to moto, except Lambda `Invoke`, which it
answers itself through its runner, so functions really run while a state machine executes. The
runner (`LambdaShim.runner`) is `BootstrapFunctions`: each Invoke hands the event to the real
`infc-lambda` bootstrap of that function over a Runtime API (scripts/lambda_runtime_api.py), with
the function's environment as scripts/lambda_fixture.py resolved it from the template against
moto, so every effect of the function lands in moto. `executing_moto` switches Step Functions'
execution (`execute_state_machine`) on for a module, before it creates any resource. moto runs
through scripts/moto_server.py, the launcher that corrects moto 5.2.6's `states:startExecution`
integration (child workflows and asynchronous starts; see there).
"""
import http.client
import http.server
import json
import math
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request

import pytest

import loopback


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LambdaShim:
    """A loopback proxy in front of moto that answers Lambda Invoke with its runner."""

    def __init__(self, moto_port, port=0):
        """`port`: the one moto's `MOTO_PORT` names, when moto was started first (0: any free one)."""
        self.moto_port = moto_port
        self.runner = None
        self.calls = []
        self.lock = threading.Lock()
        shim = self

        class Handler(loopback.QuietHandler):
            def handle_one(self):
                body = self.body()
                path = urllib.parse.unquote(self.path)
                if self.command == "POST" and path.startswith("/2015-03-31/functions/") and path.endswith("/invocations"):
                    name = path[len("/2015-03-31/functions/"):-len("/invocations")].rsplit(":function:", 1)[-1].split(":")[0]
                    payload = json.loads(body or b"null")
                    with shim.lock:
                        shim.calls.append((name, payload))
                    ok, value = shim.runner.invoke(name, payload) if shim.runner else (False, {
                        "errorType": "infc.NoTaskRunner", "errorMessage": "no task runner is set"})
                    headers = [("Content-Type", "application/json")] + ([] if ok else [("X-Amz-Function-Error", "Unhandled")])
                    return self.reply(200, json.dumps(value).encode(), headers)
                conn = http.client.HTTPConnection("127.0.0.1", shim.moto_port, timeout=60)
                headers = {k: v for k, v in self.headers.items() if k.lower() not in ("connection", "keep-alive")}
                conn.request(self.command, self.path, body=body, headers=headers)
                answer = conn.getresponse()
                data = answer.read()
                self.reply(answer.status, data, [(k, v) for k, v in answer.getheaders()
                                                 if k.lower() not in ("transfer-encoding", "connection", "content-length")])
                conn.close()

            do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = do_PATCH = handle_one

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


SCRIPTS = os.path.dirname(os.path.abspath(__file__))


class BootstrapFunctions:
    """The shim's runner: one Lambda Invoke is one event served by scripts/lambda_runtime_api.py to
    a fresh `infc-lambda` process (the bootstrap, `bootstrap` executable) with LAMBDA_TASK_ROOT the
    package and the function's environment (`functions`, from lambda_fixture.py setup) plus
    `extra` (test doubles' URLs), its AWS endpoint moto. Its response, or its function error as
    Lambda reports one. `seconds_scale` divides the whole seconds an evaluator answers for a
    computed wait (`"as": "seconds"`), the test-only time scale of the definitions' fixed waits."""

    def __init__(self, bootstrap, root, functions, moto_port, extra=None, seconds_scale=1):
        self.bootstrap, self.root, self.functions = bootstrap, root, functions
        self.moto_port, self.extra, self.seconds_scale = moto_port, extra or {}, seconds_scale
        self.errors = []

    def environment(self, function):
        env = {"PATH": "/usr/bin:/bin", "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
               "AWS_SESSION_TOKEN": "session", "AWS_REGION": "us-east-1", "AWS_ENDPOINT_URL": f"http://127.0.0.1:{self.moto_port}",
               "AWS_LAMBDA_FUNCTION_NAME": function, "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "256", "LAMBDA_TASK_ROOT": self.root}
        env.update(self.functions[function])
        env.update(self.extra)
        return env

    def invoke(self, function, payload):
        if function not in self.functions:
            return False, {"errorType": "ResourceNotFoundException", "errorMessage": f"no function {function}"}
        with tempfile.TemporaryDirectory() as tmp:
            events = os.path.join(tmp, "events.json")
            with open(events, "w") as f:
                json.dump([payload], f)
            api = subprocess.Popen([sys.executable, os.path.join(SCRIPTS, "lambda_runtime_api.py"), events],
                                   stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
            try:
                port = int(api.stdout.readline().split()[1])
                env = self.environment(function)
                env["AWS_LAMBDA_RUNTIME_API"] = f"127.0.0.1:{port}"
                run = subprocess.run([self.bootstrap], env=env, capture_output=True, text=True, timeout=120)
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/_results", timeout=10) as r:
                    results = json.loads(r.read())
            finally:
                api.stdin.close()
                api.wait(10)
        if len(results) != 1 or results[0]["kind"] not in ("response", "error"):
            self.errors.append((function, payload, results, run.stderr))
            return False, {"errorType": "infc.BootstrapFailed", "errorMessage": f"{results} {run.stderr[-2000:]}"}
        body = json.loads(results[0]["body"] or "null")
        if results[0]["kind"] == "error":
            return False, body
        return True, scaled_seconds(payload, body, self.seconds_scale)


def scaled_seconds(payload, body, scale):
    """An evaluator's answer with the whole seconds it computed for a wait (`"as": "seconds"`)
    divided by `scale` (rounded up): the test-only time scale of computed waits."""
    if scale != 1 and isinstance(payload, dict) and isinstance(payload.get("evaluate"), dict) and isinstance(body, dict):
        for key, item in payload["evaluate"].items():
            if item.get("as") == "seconds" and isinstance(body.get(key), (int, float)):
                body[key] = math.ceil(body[key] / scale)
    return body


class Moto:
    def __init__(self, url, shim):
        self.url = url
        self.shim = shim


@pytest.fixture(scope="session")
def moto_server():
    port = free_port()
    shim = LambdaShim(port)
    env = dict(os.environ, MOTO_PORT=str(shim.port))
    log = tempfile.TemporaryFile()
    proc = subprocess.Popen([sys.executable, os.path.join(SCRIPTS, "moto_server.py"), "-H", "127.0.0.1", "-p", str(port)],
                            env=env, stdout=log, stderr=log)
    try:
        deadline = time.time() + 60
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), 0.2).close()
                break
            except OSError:
                assert proc.poll() is None and time.time() < deadline, "moto did not start"
                time.sleep(0.1)
        yield Moto(f"http://127.0.0.1:{port}", shim)
    finally:
        shim.close()
        proc.terminate()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)


def stepfunctions_execution(url, on):
    request = urllib.request.Request(url + "/moto-api/config", method="POST",
                                     data=json.dumps({"stepfunctions": {"execute_state_machine": on}}).encode())
    urllib.request.urlopen(request, timeout=10).read()


@pytest.fixture(scope="module")
def executing_moto(moto_server):
    """moto with Step Functions executing definitions: switched on before the module creates its
    resources (state machines made by moto's CloudFormation are not executable, and while it is
    on they are not found either), off again after."""
    stepfunctions_execution(moto_server.url, True)
    try:
        yield moto_server
    finally:
        stepfunctions_execution(moto_server.url, False)


@pytest.fixture(scope="session")
def moto(moto_server):
    """The emulator's URL (the template tests talk to moto directly)."""
    return moto_server.url
