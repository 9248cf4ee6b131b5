"""Workflows executed, not just parsed: the differential test. Every workflow of examples/ and of
the workflow corpus (Tests/Golden/workflows) runs with the same inputs once on the local runtime
(`infc run`) and once as its emitted state machine on moto, and both runs must give the same
result or error and the same effects: every table's items, every bucket's objects, the calls the
services received, and the task calls in order (their arguments show in the items they write).

    INFC=.build/debug/infc python3 -m pytest -q scripts/aws_workflow_test.py

The cloud side is the real thing as far as the emulator goes: the app's resources are created in
moto from its template by scripts/lambda_fixture.py (names prefixed by the app's, state machines
from the template's definitions with `create_state_machine`, moto's `execute_state_machine`
switched on first), and every Lambda Invoke the state machine makes (tasks, the workflow's
evaluator, a limited service's function) is answered by the real `infc-lambda` bootstrap of that
function through the shim of conftest.py, its environment resolved from the template, its AWS
endpoint moto; so every effect lands in moto. What Lambda's event sources would deliver (messages
published to a topic, calls sent to an fn's queue) is delivered here to the subscriber or
consumer function through the same bootstrap until nothing is left, as the local runtime
delivers them itself. Services are test doubles on loopback (one per side, each recording the
calls it receives), secrets `sk_test_<name>` on both sides.

Waits never take real minutes: the local runtime runs with `--time-scale`, the definitions' fixed
waits and timeouts are divided by the same scale (lambda_fixture.py --time-scale) and so are the
computed waits the evaluator answers (BootstrapFunctions' seconds_scale); the emulator waits in
whole seconds, so each wait takes at least one.
"""
import base64
import collections
import http.server
import json
import os
import re
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.request
import uuid

import boto3
import pytest

import loopback
from conftest import BootstrapFunctions, free_port

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
INFC = os.environ.get("INFC", os.path.join(ROOT, ".build/debug/infc"))
BOOTSTRAP = os.environ.get("INFC_LAMBDA", os.path.join(os.path.dirname(INFC), "infc-lambda"))
FIXTURE = os.path.join(ROOT, "scripts", "lambda_fixture.py")
REGION = "us-east-1"


def client(url, name):
    return boto3.client(name, endpoint_url=url, region_name=REGION,
                        aws_access_key_id="testing", aws_secret_access_key="testing")


def wait_for(predicate, timeout=90, what="a condition"):
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


class ServiceDouble:
    """A service on loopback that records every call (method, path, JSON body) and answers each
    with the same JSON, whatever the path: enough fields for every example's use of it."""

    ANSWER = {"ok": True, "id": "pay-1", "number": 7, "text": "scanned text", "pages": 2, "status": "fine"}

    def __init__(self):
        self.calls = []
        double = self

        class Handler(loopback.QuietHandler):
            def handle_one(self):
                body = self.body()
                try:
                    parsed = json.loads(body) if body else None
                except ValueError:
                    parsed = body.decode("utf-8", "replace")
                double.calls.append((self.command, self.path, parsed))
                self.reply(200, json.dumps(ServiceDouble.ANSWER).encode(), [("Content-Type", "application/json")])

            do_GET = do_POST = do_PUT = do_DELETE = handle_one

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


class LocalRuntime:
    """`infc run` of a build directory on a free loopback port, with its own state."""

    def __init__(self, build, state, time_scale, env):
        self.build, self.state = build, state
        self.proc = subprocess.Popen([INFC, "run", build, "--port", str(free_port()), "--state", state,
                                      "--time-scale", str(time_scale)],
                                     env=dict(os.environ, **env), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        path = os.path.join(state, "runtime.json")
        wait_for(lambda: self.proc.poll() is None and os.path.exists(path) and os.path.getsize(path) > 0, 30, "infc run")
        time.sleep(0.05)
        with open(path) as f:
            info = json.load(f)
        self.port, self.token = info["port"], info["token"]

    def control(self, endpoint, body):
        request = urllib.request.Request(f"http://127.0.0.1:{self.port}/_infc/{endpoint}", method="POST",
                                         data=json.dumps(body).encode(),
                                         headers={"X-Infc-Token": self.token, "Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=60) as r:
                return r.status, json.loads(r.read())
        except urllib.error.HTTPError as e:
            return e.code, json.loads(e.read() or b"null")

    def query(self, sql, *args):
        with sqlite3.connect(os.path.join(self.state, "state.db")) as db:
            return db.execute(sql, args).fetchall()

    def cli(self, *args, data=None, build=True):
        r = subprocess.run([INFC, *args, "--state", self.state] + (["--build", self.build] if build else []), input=data,
                           capture_output=True, timeout=60)
        assert r.returncode == 0, r.stderr
        return r.stdout

    def quiet(self):
        """No message waiting and no execution unfinished."""
        messages = self.query("SELECT count(*) FROM queue_messages")[0][0]
        running = self.query("SELECT count(*) FROM workflow_executions WHERE status NOT IN ('completed', 'failed')")[0][0]
        return messages == 0 and running == 0

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(5)


def build(source, out, target):
    r = subprocess.run([INFC, "build", source, "--target", target, "-o", out, "-q"], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr


UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def normal(value):
    """What differs between any two runs by design: ids from `uuid()` and times from `now()`."""
    if isinstance(value, str):
        return UUID.sub("<uuid>", value)
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, (int, float)):
        return "<time>" if value > 1.5e12 else value
    if isinstance(value, list):
        return [normal(v) for v in value]
    if isinstance(value, dict):
        return {normal(k): normal(v) for k, v in value.items()}
    return value


def effects(tables, objects):
    """Each table's items and each bucket's objects as sorted [key, value] pairs, ids and times
    normalised (pairs, not a dict: two keys that differ only by a uuid stay two)."""
    return {"tables": {t: sorted([normal(k), normal(v)] for k, v in items.items()) for t, items in tables.items()},
            "objects": {b: sorted([normal(k), v] for k, v in items.items()) for b, items in objects.items()}}


def item(effects, table, key):
    return next((v for k, v in effects["tables"][table] if k == key), None)


def compact(name):
    return name.replace("_", "").replace("-", "").lower()


class App:
    """One program built for both targets, its resources on moto (prefixed by its name) with
    executable state machines, its functions behind the shim, and its local runtime."""

    def __init__(self, moto, tmp_path, source, time_scale):
        self.moto = moto
        self.moto_port = int(moto.url.rsplit(":", 1)[1])
        self.local_build, aws_build = str(tmp_path / "local"), str(tmp_path / "aws")
        build(source, self.local_build, "local")
        build(source, aws_build, "aws")
        with open(os.path.join(self.local_build, "manifest.json")) as f:
            self.manifest = json.load(f)
        with open(os.path.join(aws_build, "template.json")) as f:
            self.template = json.load(f)
        # The stack's name (and every resource's prefix): apart from the template tests' stacks.
        self.name = "diff-" + self.manifest["app"]
        r = subprocess.run([sys.executable, FIXTURE, str(self.moto_port), "setup", os.path.join(aws_build, "template.json"), self.name,
                            "--prefix", "--definitions", "--time-scale", str(time_scale)],
                           capture_output=True, text=True, timeout=120)
        assert r.returncode == 0, r.stderr
        setup = json.loads(r.stdout)
        self.functions, self.machines = setup["functions"], setup["stateMachines"]
        # Every workflow's definition in the template is the one written beside it, for reading.
        for rid, res in self.template["Resources"].items():
            if res["Type"] == "AWS::StepFunctions::StateMachine":
                workflow = json.loads(res["Properties"]["DefinitionString"])["Comment"].rsplit(" ", 1)[-1]
                with open(os.path.join(aws_build, "workflows", workflow + ".asl.json")) as f:
                    assert json.load(f) == json.loads(res["Properties"]["DefinitionString"])
        self.services = {"local": ServiceDouble(), "aws": ServiceDouble()}
        local_env = {}
        aws_env = {}
        for s in self.manifest["services"]:
            local_env[s["urlEnv"]] = self.services["local"].url + "/" + s["name"]
            aws_env[s["urlEnv"]] = self.services["aws"].url + "/" + s["name"]
        for s in self.manifest["secrets"]:
            local_env[s["env"]] = "sk_test_" + s["name"]
        assert os.access(BOOTSTRAP, os.X_OK), f"no infc-lambda at {BOOTSTRAP} (swift build builds it; INFC_LAMBDA names another)"
        self.runner = BootstrapFunctions(BOOTSTRAP, self.local_build, self.functions, self.moto_port, aws_env, seconds_scale=time_scale)
        moto.shim.runner = self.runner
        moto.shim.calls.clear()
        self.local = LocalRuntime(self.local_build, str(tmp_path / "state"), time_scale, local_env)
        self.ddb, self.s3, self.sfn = (client(moto.url, n) for n in ("dynamodb", "s3", "stepfunctions"))
        self.task_functions = {f["name"] for f in self.manifest["functions"]
                               if any(t["type"] == "workflow-task" for t in f["triggers"])}

    # Seeding: the same data on both sides before a run.

    def table_name(self, table):
        return next(t for t in self.ddb.list_tables()["TableNames"]
                    if t.startswith(self.name + "-") and t[len(self.name) + 1:].lower() == compact(table) + "table")

    def bucket_name(self, bucket):
        return next(b["Name"] for b in self.s3.list_buckets()["Buckets"]
                    if b["Name"].startswith(self.name.lower() + "-") and b["Name"][len(self.name) + 1:] == compact(bucket) + "bucket")

    def put_item(self, table, key, value):
        self.local.cli("table", table, "put", key, json.dumps(value))
        self.ddb.put_item(TableName=self.table_name(table), Item={"id": {"S": key}, "value": attribute(value)})

    def put_text(self, bucket, key, text):
        self.local.cli("bucket", bucket, "put", key, "-", "--content-type", "text/plain; charset=utf-8", data=text.encode())
        self.s3.put_object(Bucket=self.bucket_name(bucket), Key=key, Body=text.encode(),
                           ContentType="text/plain; charset=utf-8", Metadata={"infc-text": "1"})

    # Runs

    def run_local(self, workflow, args):
        status, started = self.local.control("invoke", {"function": workflow, "args": args})
        assert status == 202, started

        def finished():
            rows = self.local.query("SELECT status, result, error FROM workflow_executions WHERE id = ?", started["execution"])
            return rows[0] if rows and rows[0][0] in ("completed", "failed") else None
        status, result, error = wait_for(finished, what=f"{workflow} on infc run")
        self.last_execution = started["execution"]
        return status, (json.loads(result) if result is not None else None), error

    def run_aws(self, workflow, args):
        execution = self.sfn.start_execution(stateMachineArn=self.machines[workflow], name=uuid.uuid4().hex,
                                             input=json.dumps({"args": args}))["executionArn"]

        def done():
            d = self.sfn.describe_execution(executionArn=execution)
            return d if d["status"] != "RUNNING" else None
        return wait_for(done, what=f"{workflow} on moto")

    def history(self, described):
        """The last events of an execution (for a failure's message)."""
        events = self.sfn.get_execution_history(executionArn=described["executionArn"])["events"][-8:]
        return [{k: v for k, v in e.items() if k not in ("timestamp", "id", "previousEventId")} for e in events]

    def deliver(self):
        """Delivers what Lambda's event sources would: each message published to a topic (its tap
        queue) to the subscribers' functions, each message on an fn's queue to its consumer; until
        nothing is left and no execution runs. Returns how many it delivered."""
        delivered = 0
        for _ in range(20):
            running = any(self.sfn.list_executions(stateMachineArn=arn, statusFilter="RUNNING")["executions"]
                          for arn in self.machines.values())
            r = subprocess.run([sys.executable, FIXTURE, str(self.moto_port), "dump", self.name + "-"],
                               capture_output=True, text=True, timeout=120)
            assert r.returncode == 0, r.stderr
            queues = {q: records for q, records in json.loads(r.stdout)["queues"].items() if records}
            if not queues and not running:
                return delivered
            for queue, records in sorted(queues.items()):
                logical = queue[len(self.name) + 1:]
                delivered += len(records)
                if logical.endswith("TopicTap"):
                    topic = next(t for t in self.manifest["topics"] if compact(t["name"]) + "topictap" == logical.lower())
                    for s in topic["subscriptions"]:
                        if s.get("queue"):
                            # A limited subscriber reads the topic through its queue (raw delivery).
                            self.invoke(self.consumer(s["queue"]), {"Records": records})
                        else:
                            self.invoke(s["target"], {"Records": [sns_record(topic["name"], m["body"]) for m in records]})
                else:
                    # An fn's queue (`async`) or a limited subscriber's; its dead letters stay.
                    q = next((q for q in self.manifest["queues"] if compact(q["name"]) == logical.lower()), None)
                    assert q or "DeadLetter" in logical, queue
                    if q:
                        self.invoke(q["consumer"], {"Records": records})
            time.sleep(0.2)
        raise AssertionError("messages kept coming")

    def consumer(self, queue):
        return next(q["consumer"] for q in self.manifest["queues"] if q["name"] == queue)

    def invoke(self, function, event):
        ok, answer = self.runner.invoke(function, event)
        assert ok, (function, answer)
        assert not (isinstance(answer, dict) and answer.get("batchItemFailures")), (function, answer)

    # Effects

    def local_effects(self):
        tables = {}
        for t in self.manifest["tables"]:
            tables[t] = {k: json.loads(v) for k, v in
                         self.local.query("SELECT key, value FROM documents WHERE tbl = ? ORDER BY key", t)}
        objects = {}
        for b in self.manifest["buckets"]:
            keys = [line.split(" ")[0] for line in self.local.cli("bucket", b, "list").decode().splitlines()
                    if line and not line.startswith("(")]
            objects[b] = {k: base64.b64encode(self.local.cli("bucket", b, "get", k)).decode() for k in keys}
        return effects(tables, objects)

    def aws_effects(self):
        r = subprocess.run([sys.executable, FIXTURE, str(self.moto_port), "dump", self.name + "-"],
                           capture_output=True, text=True, timeout=120)
        assert r.returncode == 0, r.stderr
        dump = json.loads(r.stdout)
        tables = {t: {k: item.get("value") for k, item in sorted(dump["tables"].get(self.table_name(t), {}).items())}
                  for t in self.manifest["tables"]}
        objects = {b: {k: o["b64"] for k, o in dump["objects"].get(self.bucket_name(b), {}).items()}
                   for b in self.manifest["buckets"]}
        return effects(tables, objects)

    def local_tasks(self, execution):
        """The task functions the execution invoked, in the order they started (`infc trace`)."""
        trace = self.local.query("SELECT trace FROM workflow_executions WHERE id = ?", execution)[0][0]
        records = []

        def walk(node):
            if isinstance(node, dict):
                if "function" in node and str(node.get("trigger", "")).startswith("step "):
                    records.append(node)
                for v in node.values():
                    walk(v)
            elif isinstance(node, list):
                for v in node:
                    walk(v)
        walk(json.loads(self.local.cli("trace", trace, "--format", "json", build=False)))
        records.sort(key=lambda r: r.get("startedAt") or r.get("started") or 0)
        return [r["function"] for r in records if r["function"] in self.task_functions]

    def aws_tasks(self, since):
        return [name for name, _ in self.moto.shim.calls[since:] if name in self.task_functions]

    def service_calls(self, side):
        return sorted(normal(json.dumps(c, sort_keys=True)) for c in self.services[side].calls)

    def stop(self):
        self.moto.shim.runner = None
        self.local.stop()
        for s in self.services.values():
            s.close()


def attribute(value):
    """A JSON value as a DynamoDB attribute value (as infc writes items)."""
    if value is None:
        return {"NULL": True}
    if isinstance(value, bool):
        return {"BOOL": value}
    if isinstance(value, (int, float)):
        return {"N": json.dumps(value)}
    if isinstance(value, str):
        return {"S": value}
    if isinstance(value, list):
        return {"L": [attribute(v) for v in value]}
    return {"M": {k: attribute(v) for k, v in value.items()}}


def sns_record(topic, message):
    return {"EventSource": "aws:sns", "EventVersion": "1.0",
            "Sns": {"Type": "Notification", "MessageId": uuid.uuid4().hex, "Message": message,
                    "TopicArn": f"arn:aws:sns:{REGION}:123456789012:{topic}", "Timestamp": "2026-01-01T00:00:00.000Z"}}


def differential(app, workflow, args, expect_status=None):
    """Runs `workflow(args)` on both sides and compares everything; returns the local result."""
    since_aws = len(app.moto.shim.calls)
    local_status, local_result, local_error = app.run_local(workflow, args)
    described = app.run_aws(workflow, args)
    assert not app.runner.errors, app.runner.errors
    # The same outcome: the result, or a failure (a throw's value as the cause).
    if local_status == "completed":
        assert described["status"] == "SUCCEEDED", (
            workflow, args, described.get("status"), described.get("error"), described.get("cause"), app.history(described))
        # The output as the execution's history records it: the engine's own record (moto
        # 5.2.6's describe_execution leaves it out when it is null and gives a string result
        # without its quotes, unless scripts/moto_server.py corrected it).
        events = app.sfn.get_execution_history(executionArn=described["executionArn"])["events"]
        output = next(e["executionSucceededEventDetails"].get("output", "null") for e in events if e["type"] == "ExecutionSucceeded")
        assert normal(json.loads(output)) == normal(local_result)
    else:
        assert described["status"] == "FAILED", (workflow, args, local_error, described.get("output"), app.history(described))
    if expect_status:
        assert local_status == expect_status, (local_status, local_error)
    # The same task calls, in order where the workflow has no parallel branches.
    local_tasks, aws_tasks = app.local_tasks(app.last_execution), app.aws_tasks(since_aws)
    assert collections.Counter(aws_tasks) == collections.Counter(local_tasks), (aws_tasks, local_tasks)
    if not has_branches(app, workflow):
        assert aws_tasks == local_tasks
    # Everything delivered on both sides, then the same data and the same service calls.
    app.deliver()
    wait_for(app.local.quiet, what="infc run to finish its messages")
    app.deliver()
    assert app.aws_effects() == app.local_effects()
    assert app.service_calls("aws") == app.service_calls("local")
    return local_status, local_result, local_error, described


def has_branches(app, workflow):
    text = json.dumps(json.loads(open(os.path.join(app.local_build, "..", "aws", "workflows", workflow + ".asl.json")).read()))
    return '"Type": "Parallel"' in text and "Branches" in text and any(
        len(s.get("Branches", [])) > 1 for s in walk_states(json.loads(text)))


def walk_states(definition):
    for state in definition.get("States", {}).values():
        yield state
        for b in state.get("Branches", []):
            yield from walk_states(b)
        if "ItemProcessor" in state:
            yield from walk_states(state["ItemProcessor"])


def corpus(name):
    return os.path.join(ROOT, "Tests", "Golden", "workflows", name + ".inf")


def example(name):
    return os.path.join(ROOT, "examples", name + ".inf")


@pytest.fixture
def app(executing_moto, tmp_path, request):
    apps = []

    def make(source, time_scale):
        a = App(executing_moto, tmp_path, source, time_scale)
        apps.append(a)
        return a
    yield make
    for a in apps:
        a.stop()


# The workflow corpus: every construct of the mapping.

def test_direct(app):
    a = app(corpus("direct"), 2)
    a.put_item("marks", "stale", {"old": True})
    status, result, _, _ = differential(a, "flow", ["k1", ["i1", "i2", "i3"]], "completed")
    assert result == {"id": "k1", "a": "a", "b": "b", "items": ["i1", "i2", "i3"]}
    cloud = a.aws_effects()
    assert item(cloud, "marks", "stale") is None and item(cloud, "marks", "published") == {"id": "k1", "a": "a", "b": "b"}
    assert item(cloud, "calls", "k1/later") == {"id": "k1", "what": "a"}


def test_failures(app):
    a = app(corpus("failures"), 2)
    status, result, _, _ = differential(a, "flow", ["k1", ["a", "stop", "b"]], "completed")
    assert result == {"stopped": "stop", "checked": "checked"}
    # flaky: two attempts on both sides (retry 1), then the catch.
    assert sum("/tried/" in k for k, _ in a.aws_effects()["tables"]["calls"]) == 2
    _, _, error, described = differential(a, "flow", ["fail", []], "failed")
    assert "asked" in error and described["error"] == "infc.Thrown"
    assert json.loads(described["cause"]) == {"reason": "asked", "id": "fail"}
    # `catch e` of a task's failure binds what it binds locally (errorValue through the evaluator).
    _, result, _, _ = differential(a, "caught", ["k2"], "completed")
    assert result["code"] == "type-error" and "k2/flaky failed" in [k for k, _ in a.aws_effects()["tables"]["calls"]], result


def test_computation(app):
    a = app(corpus("computation"), 10)
    differential(a, "every_1h", [], "completed")
    notes = a.aws_effects()["tables"]["notes"]
    # Text with `${` reaches the item as written (no CloudFormation placeholder in the definition).
    assert item(a.aws_effects(), "notes", "shell") == {"text": "echo ${HOME} costs 22", "literal": "${AWS::Region}"}
    assert item(a.aws_effects(), "notes", "record") == {"total": 22, "tags": ["y"], "label": "note 2", "extra": {"at": 2}}
    assert [v for k, v in notes if k not in ("shell", "record")] == [{"label": "note 2", "merged": {"base": 2, "names": ["a", "b"], "nested": {"copy": 2, "flag": True, "none": None}, "total": 22},
                                     "fallback": {"empty": True}, "at": "<time>", "pair": [2, 2], "first": "a"}]


def test_control(app):
    a = app(corpus("control"), 2)
    a.put_item("jobs", "a-j1", {"count": 3, "items": ["x", "y"]})
    a.put_item("jobs", "b-j1", "ready")
    a.put_item("jobs", "check", True)
    _, result, _, _ = differential(a, "job", ["j1", 1000], "completed")
    assert result == {"id": "j1", "tries": 0}
    # A map that returns from inside, a try whose body returns, a computed wait of 0.
    a.put_item("jobs", "a-j2", {"count": 1, "items": ["x", "stop"]})
    _, result, _, _ = differential(a, "job", ["j2", 0], "completed")
    assert result == "stopped"
    a.put_item("jobs", "risky-j3", "done")
    a.put_item("jobs", "a-j3", {"count": 0, "items": []})
    _, result, _, _ = differential(a, "job", ["j3", 500], "completed")
    assert result == "done"
    # A computed wait that is no duration fails on both sides.
    differential(a, "job", ["j4", "soon"], "failed")


def test_tasks(app):
    a = app(corpus("tasks"), 60)
    a.put_item("prices", "p1", 10)
    _, result, _, _ = differential(a, "quote", ["p1", 3], "completed")
    assert result == 10


def test_integrations(app):
    a = app(corpus("integrations"), 3600)
    a.put_item("items", "i1", {"name": "one"})
    a.put_item("items", "old-i1", {"old": True})
    differential(a, "archive", ["i1"], "completed")
    _, result, _, _ = differential(a, "child", ["i1"], "completed")
    assert result == "i1"
    # The evaluator performs scan, insert, bucket operations, the secret and the unlimited
    # service; the limited one is called by its own function (`calls_slow`).
    _, result, _, _ = differential(a, "calls", ["i1"], "completed")
    assert result["answer"] == ServiceDouble.ANSWER and result["slow"] == ServiceDouble.ANSWER and json.loads(result["file"]) == {"id": "i1", "count": 3}
    assert [name for name, _ in a.moto.shim.calls if name == "calls_slow"] == ["calls_slow"]
    assert ("GET", "/slow/status/i1", None) in a.services["aws"].calls
    # insert's conditional write fails the second time on both sides, the same way.
    _, _, error, described = differential(a, "calls", ["i1"], "failed")
    assert "condition-failed" in error and described["error"] == "condition-failed", (error, described)
    # `run` starts `archive` (`states:startExecution`) and waits for `child`
    # (`startExecution.sync:2`, its output the step's value): on moto through the correction of
    # scripts/moto_server.py. Its own id, apart from the `lock-i1` that `calls` inserted.
    a.put_item("items", "i2", {"name": "two"})
    a.put_item("items", "old-i2", {"old": True})
    # `run` scans after `async later(id)`: whether `later`'s item is there yet is a race on any
    # runtime (the local one may run `later` first; here moto's queue is delivered after the
    # execution). Seeded with the item `later` writes, the scan sees the same on both sides.
    a.put_item("items", "later-i2", {"id": "i2"})
    before = len(a.sfn.list_executions(stateMachineArn=a.machines["archive"])["executions"])
    _, result, _, described = differential(a, "run", ["i2"], "completed")
    assert result["answer"] == ServiceDouble.ANSWER and result["slow"] == ServiceDouble.ANSWER, result
    cloud = a.aws_effects()
    for key in ("i2", "later-i2", "archived-i2", "lock-i2"):
        assert item(cloud, "items", key) is not None, key
    assert item(cloud, "items", "old-i2") is None
    # On moto, the started `archive` and the awaited `child` ran as executions of their own.
    archives = a.sfn.list_executions(stateMachineArn=a.machines["archive"])["executions"]
    assert len(archives) == before + 1
    # The start names no execution: it is named with a UUID, as AWS names it.
    assert sum(bool(UUID.fullmatch(e["name"])) for e in archives) == 1, [e["name"] for e in archives]
    children = a.sfn.list_executions(stateMachineArn=a.machines["child"])["executions"]
    assert any(json.loads(a.sfn.describe_execution(executionArn=e["executionArn"])["input"]) == {"args": ["i2"]} for e in children)


# The examples.

def test_shop(app):
    a = app(example("shop"), 86400)
    a.put_item("orders", "o1", {"id": "o1", "qty": 2, "status": "paid", "payment": "pay-0"})
    differential(a, "follow_up", ["o1"], "completed")
    assert "reminders/o1.txt" in [k for k, _ in a.aws_effects()["objects"]["receipts"]]


def test_coffee(app):
    a = app(example("coffee"), 60)
    order = {"id": "c1", "drink": "latte", "qty": 2, "phone": "+15550100", "status": "pending"}
    a.put_item("orders", "c1", order)
    a.put_item("approvals", "c1", {"decision": "approved", "by": "sam"})
    differential(a, "await_approval", [order], "completed")
    assert item(a.aws_effects(), "orders", "c1")["status"] == "brewing"
    rejected = dict(order, id="c2")
    a.put_item("orders", "c2", rejected)
    a.put_item("approvals", "c2", {"decision": "rejected", "by": "sam"})
    differential(a, "await_approval", [rejected], "completed")
    assert item(a.aws_effects(), "orders", "c2")["status"] == "rejected"


def test_pipeline(app):
    a = app(example("pipeline"), 60)
    a.put_text("uploads", "j1/a.txt", "first file")
    a.put_text("uploads", "j1/b.txt", "the second file")
    job = {"id": "j1", "files": ["j1/a.txt", "j1/b.txt"], "lang": "en", "status": "running", "started": 1.7e12}
    a.put_item("jobs", "j1", job)
    differential(a, "process", [job], "completed")
    assert item(a.aws_effects(), "jobs", "j1")["status"] == "done"
