"""Workflows executed, not just parsed: a workflow of the corpus runs once on the local runtime
and once as its emitted state machine on moto (Step Functions executing, its Lambda tasks
answered by the shim of conftest.py), and both runs must give the same effects and result.

    INFC=.build/debug/infc python3 -m pytest -q scripts/aws_workflow_test.py

The task runner behind the shim is the local runtime: each Lambda Invoke of a task function is
`POST /_infc/invoke` on an `infc run` of the same program (its own state directory), so the task's
code really runs. It is one swappable piece (`LocalRuntimeTasks`); the Lambda bootstrap will
take its place. Waits are real but seconds long (never minutes); the local run uses
`--time-scale`.
"""
import json
import os
import sqlite3
import subprocess
import time
import urllib.request
import uuid

import boto3
import pytest

from conftest import free_port

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
INFC = os.environ.get("INFC", os.path.join(ROOT, ".build/debug/infc"))
REGION = "us-east-1"
ACCOUNT = "123456789012"


def client(url, name):
    return boto3.client(name, endpoint_url=url, region_name=REGION,
                        aws_access_key_id="testing", aws_secret_access_key="testing")


class LocalRuntime:
    """`infc run` of a build directory on a free loopback port, with its own state."""

    def __init__(self, build, state, time_scale=1):
        self.state = state
        self.proc = subprocess.Popen([INFC, "run", build, "--port", str(free_port()), "--state", state,
                                      "--time-scale", str(time_scale)],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.time() + 30
        path = os.path.join(state, "runtime.json")
        while not os.path.exists(path):
            assert self.proc.poll() is None and time.time() < deadline, "infc run did not start"
            time.sleep(0.05)
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

    def database(self):
        return sqlite3.connect(os.path.join(self.state, "state.db"))

    def table(self, name):
        with self.database() as db:
            rows = db.execute("SELECT key, value FROM documents WHERE tbl = ? ORDER BY key", (name,)).fetchall()
        return {k: json.loads(v) for k, v in rows}

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(5)


class LocalRuntimeTasks:
    """The shim's task runner: a Lambda Invoke of a task function runs its handler on the local
    runtime (`POST /_infc/invoke`); a failure is reported as Lambda reports a function error."""

    def __init__(self, runtime):
        self.runtime = runtime

    def invoke(self, function, payload):
        args = payload.get("args", []) if isinstance(payload, dict) else [payload]
        status, body = self.runtime.control("invoke", {"function": function, "args": args})
        if status == 200:
            return True, body["result"]
        return False, {"errorType": (body or {}).get("code", "error"), "errorMessage": (body or {}).get("error", "")}


def build(source, out, target):
    r = subprocess.run([INFC, "build", source, "--target", target, "-o", out, "-q"], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr


def wait_for(predicate, timeout=60):
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError("timed out")


class Run:
    """One workflow program built for both targets, its local runtimes and its state machines on
    moto (each workflow's definition with its substitutions resolved)."""

    def __init__(self, moto, tmp_path, program, tables=(), topics=(), queues=()):
        self.moto = moto
        source = os.path.join(ROOT, "Tests", "Golden", "workflows", program + ".inf")
        self.app = program
        local_build, aws_build = str(tmp_path / "local"), str(tmp_path / "aws")
        build(source, local_build, "local")
        build(source, aws_build, "aws")
        self.local = LocalRuntime(local_build, str(tmp_path / "state-local"), time_scale=100)
        self.tasks = LocalRuntime(local_build, str(tmp_path / "state-tasks"))
        moto.shim.runner = LocalRuntimeTasks(self.tasks)
        moto.shim.calls.clear()
        self.ddb, self.sns, self.sqs, self.sfn = (client(moto.url, n) for n in ("dynamodb", "sns", "sqs", "stepfunctions"))
        with open(os.path.join(aws_build, "template.json")) as f:
            template = json.load(f)
        values = {}
        for t in tables:
            self.ddb.create_table(TableName=f"{program}-{t}", KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
                                  AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}], BillingMode="PAY_PER_REQUEST")
        self.queues = {}
        for t in topics:
            topic = self.sns.create_topic(Name=f"{program}-{t}")["TopicArn"]
            queue = self.sqs.create_queue(QueueName=f"{program}-{t}-messages")["QueueUrl"]
            queue_arn = self.sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
            self.sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn, Attributes={"RawMessageDelivery": "true"})
            self.queues[t] = queue
            values[t[:1].upper() + t[1:] + "TopicArn"] = topic
        for t in tables:
            values[t[:1].upper() + t[1:] + "TableName"] = f"{program}-{t}"
        for q in queues:
            # An async fn's queue, by the fn's name: the state machine sends its calls there.
            self.queues[q] = self.sqs.create_queue(QueueName=f"{program}-{q}-queue")["QueueUrl"]
            values[q[:1].upper() + q[1:] + "QueueUrl"] = self.queues[q]
        machines = {rid: r["Properties"] for rid, r in template["Resources"].items() if r["Type"] == "AWS::StepFunctions::StateMachine"}
        for rid in machines:
            values[rid + "Arn"] = f"arn:aws:states:{REGION}:{ACCOUNT}:stateMachine:{program}-{rid}"
        for rid, r in template["Resources"].items():
            if r["Type"] == "AWS::Lambda::Function":
                values[rid + "Arn"] = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:" + r["Properties"]["Environment"]["Variables"]["INFC_FUNCTION"]
        self.arns = {}
        for rid, props in machines.items():
            workflow = json.loads(props["DefinitionString"])["Comment"].rsplit(" ", 1)[-1]
            with open(os.path.join(aws_build, "workflows", workflow + ".asl.json")) as f:
                assert json.load(f) == json.loads(props["DefinitionString"])
            definition = props["DefinitionString"]
            for k in props.get("DefinitionSubstitutions", {}):
                definition = definition.replace("${" + k + "}", values[k])
            self.arns[workflow] = self.sfn.create_state_machine(
                name=f"{program}-{rid}", definition=definition, roleArn=f"arn:aws:iam::{ACCOUNT}:role/{program}-{rid}")["stateMachineArn"]

    def run_local(self, workflow, args):
        status, started = self.local.control("invoke", {"function": workflow, "args": args})
        assert status == 202, started

        def finished():
            with self.local.database() as db:
                row = db.execute("SELECT status, result, error FROM workflow_executions WHERE id = ?",
                                 (started["execution"],)).fetchone()
            return row if row and row[0] in ("completed", "failed") else None
        return wait_for(finished)

    def run_aws(self, workflow, args):
        execution = self.sfn.start_execution(stateMachineArn=self.arns[workflow], name=uuid.uuid4().hex,
                                             input=json.dumps({"args": args}))["executionArn"]

        def done():
            d = self.sfn.describe_execution(executionArn=execution)
            return d if d["status"] != "RUNNING" else None
        return wait_for(done)

    def stop(self):
        self.moto.shim.runner = None
        self.local.stop()
        self.tasks.stop()


def test_direct_workflow_same_on_local_runtime_and_moto(executing_moto, tmp_path):
    run = Run(executing_moto, tmp_path, "direct", tables=["marks"], topics=["done"], queues=["later"])
    try:
        args = ["k1", ["i1", "i2", "i3"]]
        with run.local.database() as db:
            db.execute("INSERT INTO documents (tbl, key, value) VALUES ('marks', 'stale', '{\"old\":true}')")
        run.ddb.put_item(TableName="direct-marks", Item={"id": {"S": "stale"}, "value": {"M": {"old": {"BOOL": True}}}})
        local_status, local_result, local_error = run.run_local("flow", args)
        assert local_status == "completed", local_error
        local_published = wait_for(lambda: run.local.table("marks").get("published"))
        described = run.run_aws("flow", args)
        assert described["status"] == "SUCCEEDED", (described.get("error"), described.get("cause"))

        # The same result.
        assert json.loads(described["output"]) == json.loads(local_result)
        # The same task calls, with the same arguments: the two branches in either order, then
        # the rest in order.
        aws_calls = [(name, payload["args"]) for name, payload in run.moto.shim.calls]
        assert sorted(aws_calls[:2]) == [("tag", ["k1", "a"]), ("tag", ["k1", "b"])]
        assert aws_calls[2:] == [("tag", ["k1", "both"]), ("tag", ["i1", "item"]), ("tag", ["i2", "item"]), ("tag", ["i3", "item"])]
        assert run.tasks.table("calls") == {k: v for k, v in wait_for(lambda: run.local.table("calls") if "k1/later" in run.local.table("calls") else None).items() if k != "k1/later"}
        # The same message published.
        received = run.sqs.receive_message(QueueUrl=run.queues["done"], MaxNumberOfMessages=10, WaitTimeSeconds=1).get("Messages", [])
        assert [json.loads(m["Body"]) for m in received] == [local_published]
        # The same async call: the message on the fn's queue holds its arguments, and the local
        # runtime delivered the same call.
        sent = run.sqs.receive_message(QueueUrl=run.queues["later"], MaxNumberOfMessages=10, WaitTimeSeconds=1).get("Messages", [])
        assert [json.loads(m["Body"]) for m in sent] == [{"args": ["k1", "a"]}]
        assert wait_for(lambda: run.local.table("calls").get("k1/later")) == {"id": "k1", "what": "a"}
        # The same item deleted.
        assert "stale" not in run.local.table("marks")
        assert "Item" not in run.ddb.get_item(TableName="direct-marks", Key={"id": {"S": "stale"}})
    finally:
        run.stop()


def test_failures_same_on_local_runtime_and_moto(executing_moto, tmp_path):
    run = Run(executing_moto, tmp_path, "failures")
    try:
        def key_shape(calls):
            # The retried task writes one item per attempt under a fresh uuid: compare the count.
            return sorted(k if "/tried/" not in k else k.split("/tried/")[0] + "/tried" for k in calls)

        args = ["k1", ["a", "stop", "b"]]
        local_status, local_result, local_error = run.run_local("flow", args)
        assert local_status == "completed", local_error
        described = run.run_aws("flow", args)
        assert described["status"] == "SUCCEEDED", (described.get("error"), described.get("cause"))
        assert json.loads(described["output"]) == json.loads(local_result) == {"stopped": "stop", "checked": "checked"}
        # flaky: 2 attempts (retry 1) on both, then the catch; the check; the items up to `stop`.
        assert key_shape(run.tasks.table("calls")) == key_shape(run.local.table("calls"))
        assert key_shape(run.local.table("calls")) == ["a/seen", "k1/caught", "k1/checked", "k1/tried", "k1/tried"]
        flow_calls = [(name, payload["args"]) for name, payload in run.moto.shim.calls]
        assert flow_calls == [("flaky", ["k1"]), ("flaky", ["k1"]), ("note", ["k1", "caught"]), ("note", ["k1", "checked"]),
                              ("note", ["a", "seen"])]

        # A throw fails the execution on both, with the thrown value.
        local_status, _, local_error = run.run_local("flow", ["fail", []])
        described = run.run_aws("flow", ["fail", []])
        assert local_status == "failed" and "asked" in local_error
        assert described["status"] == "FAILED" and described["error"] == "infc.Thrown"
        assert json.loads(described["cause"]) == {"reason": "asked", "id": "fail"}
    finally:
        run.stop()
