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


def test_direct_workflow_same_on_local_runtime_and_moto(executing_moto, tmp_path):
    source = os.path.join(ROOT, "Tests", "Golden", "workflows", "direct.inf")
    local_build, aws_build = str(tmp_path / "local"), str(tmp_path / "aws")
    build(source, local_build, "local")
    build(source, aws_build, "aws")
    args = ["k1", ["i1", "i2", "i3"]]

    # The local run: the workflow started with these arguments, its effects read from its state.
    local = LocalRuntime(local_build, str(tmp_path / "state-local"), time_scale=100)
    tasks = LocalRuntime(local_build, str(tmp_path / "state-tasks"))
    try:
        with local.database() as db:
            db.execute("INSERT INTO documents (tbl, key, value) VALUES ('marks', 'stale', '{\"old\":true}')")
        status, started = local.control("invoke", {"function": "flow", "args": args})
        assert status == 202, started

        def finished():
            with local.database() as db:
                row = db.execute("SELECT status, result, error FROM workflow_executions WHERE id = ?",
                                 (started["execution"],)).fetchone()
            return row if row and row[0] in ("completed", "failed") else None
        local_status, local_result, local_error = wait_for(finished)
        assert local_status == "completed", local_error
        local_published = wait_for(lambda: local.table("marks").get("published"))
        local_marks = local.table("marks")
        local_calls = local.table("calls")

        # The AWS run: the definition created with create_state_machine, its ARNs and names
        # substituted, the tasks answered by the shim running them on the second local runtime.
        moto = executing_moto
        moto.shim.runner = LocalRuntimeTasks(tasks)
        moto.shim.calls.clear()
        ddb, sns, sqs, sfn = (client(moto.url, n) for n in ("dynamodb", "sns", "sqs", "stepfunctions"))
        ddb.create_table(TableName="direct-marks", KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
                         AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}], BillingMode="PAY_PER_REQUEST")
        ddb.put_item(TableName="direct-marks", Item={"id": {"S": "stale"}, "value": {"M": {"old": {"BOOL": True}}}})
        topic = sns.create_topic(Name="direct-done")["TopicArn"]
        queue = sqs.create_queue(QueueName="direct-done-messages")["QueueUrl"]
        queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn, Attributes={"RawMessageDelivery": "true"})

        with open(os.path.join(aws_build, "template.json")) as f:
            template = json.load(f)
        machine = template["Resources"]["FlowStateMachine"]["Properties"]
        with open(os.path.join(aws_build, "workflows", "flow.asl.json")) as f:
            assert json.load(f) == json.loads(machine["DefinitionString"])
        values = {"TagFunctionArn": f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:tag",
                  "MarksTableName": "direct-marks", "DoneTopicArn": topic}
        assert set(machine["DefinitionSubstitutions"]) == set(values)
        definition = machine["DefinitionString"]
        for k, v in values.items():
            definition = definition.replace("${" + k + "}", v)
        arn = sfn.create_state_machine(name="direct-flow", definition=definition,
                                       roleArn=f"arn:aws:iam::{ACCOUNT}:role/direct-flow")["stateMachineArn"]
        execution = sfn.start_execution(stateMachineArn=arn, input=json.dumps({"args": args}))["executionArn"]

        def done():
            d = sfn.describe_execution(executionArn=execution)
            return d if d["status"] != "RUNNING" else None
        described = wait_for(done)
        assert described["status"] == "SUCCEEDED", (described.get("error"), described.get("cause"))

        # The same result.
        assert json.loads(described["output"]) == json.loads(local_result)
        # The same task calls, with the same arguments: the two branches in either order, then
        # the rest in order.
        aws_calls = [(name, payload["args"]) for name, payload in moto.shim.calls]
        assert sorted(aws_calls[:2]) == [("tag", ["k1", "a"]), ("tag", ["k1", "b"])]
        assert aws_calls[2:] == [("tag", ["k1", "both"]), ("tag", ["i1", "item"]), ("tag", ["i2", "item"]), ("tag", ["i3", "item"])]
        assert tasks.table("calls") == local_calls
        # The same message published.
        received = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10, WaitTimeSeconds=1).get("Messages", [])
        assert [json.loads(m["Body"]) for m in received] == [local_published]
        # The same item deleted.
        assert "stale" not in local_marks
        assert "Item" not in ddb.get_item(TableName="direct-marks", Key={"id": {"S": "stale"}})
    finally:
        local.stop()
        tasks.stop()
