#!/usr/bin/env python3
"""The Lambda service, API Gateway, the SQS event source, SNS and EventBridge, as AWS would drive
the functions of a stack that `infc deploy` made on the emulator (moto in server mode on
127.0.0.1), for infc's end-to-end tests. moto creates the functions but cannot run them; this runs
each one from its deployed package:

- the package is downloaded from the artifact bucket the stack's `CodeBucket`/`CodeKey` name and
  unzipped (modes kept) into WORKDIR/package: that directory is `LAMBDA_TASK_ROOT` and its
  `bootstrap` is the process started;
- each function's environment is what moto's Lambda reports for it (GetFunctionConfiguration: the
  template's, resolved by CloudFormation), plus what Lambda itself sets (`AWS_LAMBDA_RUNTIME_API`,
  `LAMBDA_TASK_ROOT`, `AWS_REGION`, credentials, `AWS_LAMBDA_FUNCTION_NAME`, ...) and
  `AWS_ENDPOINT_URL` (the emulator), and the overrides given (`--env NAME=VALUE`: a service's URL
  pointed at a local stub);
- one container per function, kept warm: the bootstrap serves a Runtime API of its own
  (scripts/lambda_runtime_api.py) whose `next` waits for the next invocation; a container whose
  process exits is started again on the next invocation, as Lambda does;
- API Gateway (HTTP API, payload 2.0): the request is matched to a route of the template
  (`AWS::ApiGatewayV2::Route`: method and path, `{param}` segments), the event written as API
  Gateway writes it (base64 bodies that are not UTF-8, cookies, path parameters, raw query) and
  the integration's function invoked; no route: API Gateway's own 404;
- the SQS event source (moto's event source mappings, which this module disables in moto so that
  moto's own poller does not receive the messages; else the template's): receive a batch
  (batch size as mapped), invoke, delete what succeeded; a message the batch's answer names in
  `batchItemFailures` (or every message, when the invocation failed) is made visible again at once
  (the one place the time is compressed: AWS waits the queue's visibility timeout), so moto's
  redrive moves it to the dead-letter queue after `maxReceiveCount` receives, as SQS does;
- SNS: every topic gets a tap (an SQS queue subscribed to it here); each notification it captures
  is delivered as an SNS event to every function the template subscribes to that topic
  (`Protocol: lambda`), with Lambda's asynchronous retries (two more tries when the invocation
  fails); `Protocol: sqs` subscriptions (a limited subscriber's queue, raw delivery) are made in
  moto, which then delivers to the queue itself;
- EventBridge: firing a rule (`AWS::Events::Rule`) sends its scheduled event to its target function;
- Step Functions: executions are started by the functions in moto (StartExecution) on the state
  machines moto's CloudFormation made, which moto cannot execute. `run_workflow` runs a workflow
  as deployed: moto's `execute_state_machine` switched on, a state machine created from the
  template's definition with its substitutions resolved against the stack (the deployed functions'
  ARNs, the tables' names, ...) and its fixed waits divided by the test's time scale
  (lambda_fixture.py's `scaled`), each input executed to its end, the switch off again. moto calls
  Lambda through `MOTO_PORT`: with `--shim PORT` this module serves scripts/conftest.py's
  `LambdaShim` there (moto started with that `MOTO_PORT`), its runner this module's `invoke`, so
  each task and evaluator invocation runs in the function's warm container from the package and
  the direct integrations (DynamoDB, SNS, SQS) reach moto through the shim.

As a script, an HTTP server on 127.0.0.1 (prints "PORT <n>", stops when stdin closes):

    lambda_service.py MOTO_PORT STACK WORKDIR [--env NAME=VALUE ...] [--shim PORT]

    POST /http    {"method", "path", "query", "headers": {..}, "cookies": [..], "body64"}  → the
                  API Gateway answer (payload 2.0 response object), or {"statusCode": 404, ...}
    POST /settle  runs the event sources (queues, then topic deliveries) until nothing is left:
                  {"invocations": [{"function", "trigger", "ok", "failed": [ids]}...]}
    POST /fire    {"rule": LOGICAL_ID} → the schedule's invocation {"ok", "value"}
    POST /invoke  {"function": NAME, "payload": ...} → {"ok", "value"} (a direct invocation)
    POST /workflow {"workflow": NAME, "inputs": [input...], "timeScale": N} (needs --shim) → each
                  execution as it ended: {"executions": [{"input", "status", "output", "error",
                  "cause"}], "invocations": [{"function", "trigger": "workflow", "ok"}...]}
    GET  /dump    {"tables": {logical: {id: item}}, "objects": {logical: {key: {b64, type, meta}}},
                  "deadLetters": {logical: [{"body", "attributes"}]}, "executions": [{"stateMachine", "input"}],
                  "logs": {function: stderr+stdout text}}
"""
import base64
import json
import os
import subprocess
import sys
import threading
import time
import types
import zipfile
from urllib.parse import unquote_plus
from http.server import BaseHTTPRequestHandler

import boto3
from boto3.dynamodb.types import TypeDeserializer

import loopback
from conftest import LambdaShim, scaled_seconds, stepfunctions_execution
from lambda_fixture import plain, scaled
from lambda_runtime_api import RuntimeAPI

REGION, ACCOUNT = "us-east-1", "123456789012"


class Container:
    """One warm instance of a function: its bootstrap process and its Runtime API."""

    def __init__(self, name, environment, root, log):
        self.name, self.environment, self.root, self.log = name, environment, root, log
        self.lock = threading.Lock()
        self.process = None
        self.api = None

    def ensure(self):
        if self.process is not None and self.process.poll() is None:
            return
        if self.api is not None:
            self.api.stop()
        self.api = RuntimeAPI(function_arn=f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{self.name}")
        port = self.api.start()
        env = dict(self.environment)
        env["AWS_LAMBDA_RUNTIME_API"] = f"127.0.0.1:{port}"
        self.process = subprocess.Popen([os.path.join(self.root, "bootstrap")], cwd=self.root, env=env,
                                        stdin=subprocess.DEVNULL, stdout=self.log, stderr=self.log)

    def invoke(self, event):
        """(ok, value, errorType): the response's JSON, or the error object."""
        with self.lock:
            self.ensure()
            result = self.api.invoke(event, alive=lambda: self.process.poll() is None)
            if result is None:
                return False, {"errorType": "Runtime.ExitError", "errorMessage": f"{self.name}: the bootstrap exited or did not answer"}, "Runtime.ExitError"
            if result["kind"] == "init-error":
                self.stop()
            body = json.loads(result["body"]) if result["body"] else None
            return result["kind"] == "response", body, result["errorType"]

    def stop(self):
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        if self.api is not None:
            self.api.stop()
            self.api = None
        self.process = None


class LambdaService:
    def __init__(self, moto_port, stack, workdir, overrides=None):
        self.endpoint = f"http://127.0.0.1:{moto_port}"
        kw = dict(endpoint_url=self.endpoint, region_name=REGION, aws_access_key_id="testing", aws_secret_access_key="testing")
        self.client = lambda service: boto3.client(service, **kw)
        self.stack, self.workdir = stack, workdir
        cfn = self.client("cloudformation")
        described = cfn.describe_stacks(StackName=stack)["Stacks"][0]
        parameters = {p["ParameterKey"]: p["ParameterValue"] for p in described.get("Parameters", [])}
        body = cfn.get_template(StackName=stack)["TemplateBody"]
        self.template = json.loads(body) if isinstance(body, str) else body
        self.physical = {r["LogicalResourceId"]: r["PhysicalResourceId"]
                         for r in cfn.list_stack_resources(StackName=stack)["StackResourceSummaries"]}
        self.resources = self.template["Resources"]

        # The package, from the artifact bucket, unzipped with its modes.
        self.root = os.path.join(workdir, "package")
        os.makedirs(self.root, exist_ok=True)
        archive = os.path.join(workdir, "package.zip")
        self.client("s3").download_file(parameters["CodeBucket"], parameters["CodeKey"], archive)
        with zipfile.ZipFile(archive) as z:
            for info in z.infolist():
                path = z.extract(info, self.root)
                mode = info.external_attr >> 16
                if mode:
                    os.chmod(path, mode & 0o777)
        self.package = sorted(z.namelist())

        # Each function as moto's Lambda reports it.
        lam = self.client("lambda")
        self.functions = {}        # plan name -> Container
        self.by_logical = {}       # logical id -> plan name
        self.by_physical = {}      # physical name -> plan name
        self.logs = {}
        for logical, r in sorted(self.resources.items()):
            if r["Type"] != "AWS::Lambda::Function":
                continue
            physical = self.physical[logical]
            config = lam.get_function_configuration(FunctionName=physical)
            variables = dict(config.get("Environment", {}).get("Variables", {}))
            name = variables["INFC_FUNCTION"]
            env = {"PATH": "/usr/bin:/bin", "LAMBDA_TASK_ROOT": self.root, "AWS_REGION": REGION, "AWS_DEFAULT_REGION": REGION,
                   "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_SESSION_TOKEN": "session",
                   "AWS_LAMBDA_FUNCTION_NAME": physical, "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(config.get("MemorySize", 128)),
                   "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST", "_HANDLER": config.get("Handler", ""),
                   "AWS_ENDPOINT_URL": self.endpoint}
            env.update(variables)
            env.update(overrides or {})
            log = open(os.path.join(workdir, f"{name}.log"), "ab")
            self.logs[name] = log.name
            self.functions[name] = Container(name, env, self.root, log)
            self.by_logical[logical] = name
            self.by_physical[physical] = name
        self.routes = self._routes()
        self.mappings = self._mappings()
        self.subscriptions, self.taps = self._topics()
        self.invocations = []
        self.seconds_scale = 1

    def function_of(self, reference):
        """The plan name of a function the template names by `Fn::GetAtt [X, Arn]` or `Ref`."""
        if isinstance(reference, dict):
            logical = reference.get("Ref") or reference.get("Fn::GetAtt", [None])[0]
            return self.by_logical.get(logical)
        return self.by_physical.get(str(reference).rsplit(":function:", 1)[-1].split(":")[0])

    def _routes(self):
        integrations = {logical: self.function_of(r["Properties"]["IntegrationUri"])
                        for logical, r in self.resources.items() if r["Type"] == "AWS::ApiGatewayV2::Integration"}
        routes = []
        for r in self.resources.values():
            if r["Type"] != "AWS::ApiGatewayV2::Route":
                continue
            method, path = r["Properties"]["RouteKey"].split(" ", 1)
            # Target: integrations/ joined with the integration's Ref.
            parts = r["Properties"]["Target"]["Fn::Join"][1]
            logical = next(p["Ref"] for p in parts if isinstance(p, dict))
            routes.append((method, path, integrations[logical]))
        return routes

    def _mappings(self):
        """(queue URL, queue ARN, function, batch size) for each event source mapping."""
        sqs = self.client("sqs")
        urls = {}
        for logical, r in self.resources.items():
            if r["Type"] == "AWS::SQS::Queue":
                url = self.physical[logical]
                arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
                urls[arn] = url
        mappings = []
        listed = self.client("lambda").list_event_source_mappings().get("EventSourceMappings", [])
        for m in listed:
            name = self.function_of(m["FunctionArn"])
            if name and m["EventSourceArn"] in urls:
                mappings.append((urls[m["EventSourceArn"]], m["EventSourceArn"], name, m.get("BatchSize", 10)))
                # moto's own poller would receive each message sent (counting a receive) and try
                # to run the function in a container it cannot start: this module polls instead.
                self.client("lambda").update_event_source_mapping(UUID=m["UUID"], Enabled=False)
        if not mappings:   # moto made none: the template's
            for r in self.resources.values():
                if r["Type"] == "AWS::Lambda::EventSourceMapping":
                    p = r["Properties"]
                    logical = p["EventSourceArn"]["Fn::GetAtt"][0]
                    url = self.physical[logical]
                    arn = next(a for a, u in urls.items() if u == url)
                    mappings.append((url, arn, self.function_of(p["FunctionName"]), p.get("BatchSize", 10)))
        return sorted(mappings)

    def _topics(self):
        sns, sqs = self.client("sns"), self.client("sqs")
        subscriptions, taps = {}, {}
        for logical, r in self.resources.items():
            if r["Type"] == "AWS::SNS::Topic":
                arn = self.physical[logical]
                tap = sqs.create_queue(QueueName=f"{logical}-lambda-service-tap")["QueueUrl"]
                tap_arn = sqs.get_queue_attributes(QueueUrl=tap, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
                sns.subscribe(TopicArn=arn, Protocol="sqs", Endpoint=tap_arn)
                taps[arn] = tap
                subscriptions.setdefault(arn, [])
        for r in self.resources.values():
            if r["Type"] != "AWS::SNS::Subscription":
                continue
            p = r["Properties"]
            topic = self.physical[p["TopicArn"]["Ref"]]
            if p["Protocol"] == "lambda":
                subscriptions[topic].append(self.function_of(p["Endpoint"]))
            elif p["Protocol"] == "sqs":
                queue = self.physical[p["Endpoint"]["Fn::GetAtt"][0]]
                queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
                sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn,
                              Attributes={"RawMessageDelivery": "true" if p.get("RawMessageDelivery") else "false"})
        return subscriptions, taps

    # Invocations.

    def invoke(self, name, payload, trigger="invoke"):
        """(ok, value): the shape scripts/conftest.py's task runners have."""
        name = self.by_physical.get(name, name)
        ok, value, error_type = self.functions[name].invoke(payload)
        self.invocations.append({"function": name, "trigger": trigger, "ok": ok,
                                 **({} if ok else {"errorType": error_type})})
        return ok, value

    def http(self, request):
        method, path = request["method"], request["path"]
        segments = path.strip("/").split("/")
        best = None
        for m, pattern, function in self.routes:
            parts = pattern.strip("/").split("/")
            if m != method or len(parts) != len(segments):
                continue
            params = {}
            for p, s in zip(parts, segments):
                if p.startswith("{") and p.endswith("}"):
                    params[p[1:-1]] = s
                elif p != s:
                    break
            else:
                literal = sum(1 for p in parts if not p.startswith("{"))
                if best is None or literal > best[0]:
                    best = (literal, pattern, function, params)
        if best is None:
            return {"statusCode": 404, "headers": {"content-type": "application/json"}, "body": '{"message":"Not Found"}', "isBase64Encoded": False}
        _, pattern, function, params = best
        body = base64.b64decode(request.get("body64", ""))
        headers = {k.lower(): v for k, v in request.get("headers", {}).items()}
        event = {"version": "2.0", "routeKey": f"{method} {pattern}", "rawPath": path, "rawQueryString": request.get("query", ""),
                 "headers": headers,
                 "requestContext": {"accountId": ACCOUNT, "apiId": "api", "domainName": "api.execute-api.us-east-1.amazonaws.com",
                                    "http": {"method": method, "path": path, "protocol": "HTTP/1.1", "sourceIp": "127.0.0.1",
                                             "userAgent": headers.get("user-agent", "")},
                                    "requestId": "r", "routeKey": f"{method} {pattern}", "stage": "$default"},
                 "isBase64Encoded": False}
        if request.get("cookies"):
            event["cookies"] = request["cookies"]
        if params:
            event["pathParameters"] = params
        if request.get("query"):
            query = {}
            for pair in request["query"].split("&"):
                k, _, v = pair.partition("=")
                query.setdefault(unquote_plus(k), []).append(unquote_plus(v))
            event["queryStringParameters"] = {k: ",".join(v) for k, v in query.items()}
        if body:
            try:
                event["body"] = body.decode("utf-8")
            except UnicodeDecodeError:
                event["body"] = base64.b64encode(body).decode()
                event["isBase64Encoded"] = True
        ok, value = self.invoke(function, event, trigger="http")
        if not ok:   # API Gateway's answer to a failed integration
            return {"statusCode": 500, "headers": {"content-type": "application/json"}, "body": '{"message":"Internal Server Error"}', "isBase64Encoded": False}
        return value

    def settle(self, passes=100):
        """Runs the event sources until a pass finds nothing to do."""
        sqs = self.client("sqs")
        start = len(self.invocations)
        for _ in range(passes):
            worked = False
            for url, arn, function, batch in self.mappings:
                got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=min(batch, 10), WaitTimeSeconds=0,
                                          AttributeNames=["All"]).get("Messages", [])
                if not got:
                    continue
                worked = True
                records = [{"messageId": m["MessageId"], "receiptHandle": m["ReceiptHandle"], "body": m["Body"],
                            "attributes": m.get("Attributes", {}), "messageAttributes": {}, "md5OfBody": m["MD5OfBody"],
                            "eventSource": "aws:sqs", "eventSourceARN": arn, "awsRegion": REGION} for m in got]
                ok, value = self.invoke(function, {"Records": records}, trigger="sqs")
                failed = {m["MessageId"] for m in got} if not ok else \
                    {f["itemIdentifier"] for f in (value or {}).get("batchItemFailures", [])}
                self.invocations[-1]["failed"] = sorted(failed)
                for m in got:
                    if m["MessageId"] in failed:
                        sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"], VisibilityTimeout=0)
                    else:
                        sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
            for topic, tap in self.taps.items():
                got = sqs.receive_message(QueueUrl=tap, MaxNumberOfMessages=10, WaitTimeSeconds=0).get("Messages", [])
                for m in got:
                    worked = True
                    envelope = json.loads(m["Body"])
                    record = {"EventSource": "aws:sns", "EventVersion": "1.0",
                              "EventSubscriptionArn": f"{topic}:subscription",
                              "Sns": {"Type": envelope.get("Type", "Notification"), "MessageId": envelope.get("MessageId"),
                                      "TopicArn": topic, "Subject": envelope.get("Subject"), "Message": envelope["Message"],
                                      "Timestamp": envelope.get("Timestamp"), "SignatureVersion": "1",
                                      "MessageAttributes": envelope.get("MessageAttributes", {})}}
                    for function in self.subscriptions.get(topic, []):
                        for _ in range(3):   # Lambda's asynchronous invocation: two retries
                            ok, _ = self.invoke(function, {"Records": [record]}, trigger="sns")
                            if ok:
                                break
                    sqs.delete_message(QueueUrl=tap, ReceiptHandle=m["ReceiptHandle"])
            if not worked:
                break
        return {"invocations": self.invocations[start:]}

    def fire(self, rule):
        r = self.resources[rule]["Properties"]
        target = self.function_of(r["Targets"][0]["Arn"])
        event = {"version": "0", "id": "00000000-0000-0000-0000-000000000001", "detail-type": "Scheduled Event",
                 "source": "aws.events", "account": ACCOUNT, "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                 "region": REGION, "resources": [f"arn:aws:events:{REGION}:{ACCOUNT}:rule/{self.physical.get(rule, rule)}"],
                 "detail": {}}
        ok, value = self.invoke(target, event, trigger="schedule")
        return {"ok": ok, "value": value}

    def run_workflow(self, workflow, inputs, time_scale=1, timeout=120):
        """Each input executed to its end by an executable copy of the workflow's state machine
        (see the module's notes); the Lambda invocations go through the shim to `invoke`."""
        logical, resource = next((l, r) for l, r in sorted(self.resources.items())
                                 if r["Type"] == "AWS::StepFunctions::StateMachine"
                                 and json.loads(r["Properties"]["DefinitionString"]).get("Comment", "").rsplit(" ", 1)[-1] == workflow)
        p = resource["Properties"]
        definition = p["DefinitionString"]
        for key, value in sorted(p.get("DefinitionSubstitutions", {}).items()):
            definition = definition.replace("${" + key + "}", self.resolve(value))
        if "${" in definition:
            raise ValueError(f"{logical}: a ${{…}} without a substitution: {definition[definition.index('${'):][:80]}")
        if time_scale != 1:
            definition = scaled(definition, time_scale)
        sfn = self.client("stepfunctions")
        start = len(self.invocations)
        self.seconds_scale = time_scale
        stepfunctions_execution(self.endpoint, True)
        try:
            name = self.physical[logical].rsplit(":", 1)[-1] + "-executable"
            machine = sfn.create_state_machine(name=name, definition=definition, roleArn=f"arn:aws:iam::{ACCOUNT}:role/{name}")["stateMachineArn"]
            arns = [sfn.start_execution(stateMachineArn=machine, name=f"run-{i}", input=json.dumps(value))["executionArn"]
                    for i, value in enumerate(inputs)]
            executions = []
            for arn in arns:
                deadline = time.time() + timeout
                while True:
                    d = sfn.describe_execution(executionArn=arn)
                    if d["status"] != "RUNNING":
                        break
                    if time.time() > deadline:
                        raise TimeoutError(f"{arn} still runs after {timeout} s")
                    time.sleep(0.2)
                executions.append({"input": json.loads(d["input"]), "status": d["status"],
                                   "output": json.loads(d["output"]) if d.get("output") is not None else None,
                                   "error": d.get("error"), "cause": d.get("cause")})
        finally:
            stepfunctions_execution(self.endpoint, False)
            self.seconds_scale = 1
        return {"executions": executions, "invocations": [i for i in self.invocations[start:] if i["trigger"] == "workflow"]}

    def resolve(self, value):
        """A definition substitution (CloudFormation's `Fn::GetAtt … Arn`, `Ref`, `Fn::Sub`) as the
        stack resolved it."""
        if isinstance(value, dict) and "Fn::GetAtt" in value:
            target, attribute = value["Fn::GetAtt"]
            kind = self.resources[target]["Type"]
            if attribute == "Arn" and kind == "AWS::Lambda::Function":
                return self.client("lambda").get_function_configuration(FunctionName=self.physical[target])["FunctionArn"]
            if attribute == "Arn" and kind == "AWS::SQS::Queue":
                return self.client("sqs").get_queue_attributes(QueueUrl=self.physical[target], AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
            if attribute == "Arn" and kind in ("AWS::SNS::Topic", "AWS::StepFunctions::StateMachine"):
                return self.physical[target]
        if isinstance(value, dict) and "Ref" in value:
            return self.physical[value["Ref"]]
        if isinstance(value, dict) and "Fn::Sub" in value and isinstance(value["Fn::Sub"], str):
            text = value["Fn::Sub"]
            for k, v in {"AWS::StackName": self.stack, "AWS::Region": REGION, "AWS::AccountId": ACCOUNT, "AWS::Partition": "aws"}.items():
                text = text.replace("${" + k + "}", v)
            return text
        raise ValueError(f"cannot resolve the substitution {value}")

    def task(self, name, payload):
        """The shim's runner: a state machine's Lambda invocation (its computed waits scaled)."""
        ok, value = self.invoke(name, payload, trigger="workflow")
        return ok, (scaled_seconds(payload, value, self.seconds_scale) if ok else value)

    def dump(self):
        ddb, s3, sqs, sfn = (self.client(s) for s in ("dynamodb", "s3", "sqs", "stepfunctions"))
        des = TypeDeserializer()
        out = {"tables": {}, "objects": {}, "deadLetters": {}, "executions": [], "package": self.package}
        for logical, r in sorted(self.resources.items()):
            physical = self.physical.get(logical)
            if r["Type"] == "AWS::DynamoDB::Table":
                items, start = [], {}
                while True:
                    page = ddb.scan(TableName=physical, ConsistentRead=True, **start)
                    items += page["Items"]
                    if "LastEvaluatedKey" not in page:
                        break
                    start = {"ExclusiveStartKey": page["LastEvaluatedKey"]}
                out["tables"][logical] = {i["id"]["S"]: plain({k: des.deserialize(v) for k, v in i.items()}) for i in items}
            elif r["Type"] == "AWS::S3::Bucket":
                objects = {}
                for o in s3.list_objects_v2(Bucket=physical).get("Contents", []):
                    got = s3.get_object(Bucket=physical, Key=o["Key"])
                    objects[o["Key"]] = {"b64": base64.b64encode(got["Body"].read()).decode(),
                                         "type": got.get("ContentType"), "meta": got.get("Metadata", {})}
                out["objects"][logical] = objects
            elif r["Type"] == "AWS::SQS::Queue" and "DeadLetter" in logical:
                # Read without deleting: each message received once, then made visible again.
                letters, handles = [], []
                while True:
                    got = sqs.receive_message(QueueUrl=physical, MaxNumberOfMessages=10, WaitTimeSeconds=0,
                                              VisibilityTimeout=30, MessageAttributeNames=["All"]).get("Messages", [])
                    if not got:
                        break
                    letters += [{"body": m["Body"], "attributes": {k: v.get("StringValue") for k, v in m.get("MessageAttributes", {}).items()}}
                                for m in got]
                    handles += [m["ReceiptHandle"] for m in got]
                for h in handles:
                    sqs.change_message_visibility(QueueUrl=physical, ReceiptHandle=h, VisibilityTimeout=0)
                out["deadLetters"][logical] = sorted(letters, key=lambda m: m["body"])
            elif r["Type"] == "AWS::StepFunctions::StateMachine":
                for e in sfn.list_executions(stateMachineArn=physical)["executions"]:
                    described = sfn.describe_execution(executionArn=e["executionArn"])
                    out["executions"].append({"stateMachine": logical, "input": json.loads(described["input"])})
        out["logs"] = {name: open(path, "rb").read().decode("utf-8", "replace") for name, path in self.logs.items()}
        return out

    def stop(self):
        for c in self.functions.values():
            c.stop()


def main():
    moto_port, stack, workdir = sys.argv[1], sys.argv[2], sys.argv[3]
    overrides, shim_port = {}, None
    args = sys.argv[4:]
    while args:
        if args[0] == "--env" and len(args) > 1:
            k, _, v = args[1].partition("=")
            overrides[k] = v
            args = args[2:]
        elif args[0] == "--shim" and len(args) > 1:
            shim_port = int(args[1])
            args = args[2:]
        else:
            raise SystemExit(__doc__)
    service = LambdaService(moto_port, stack, workdir, overrides)
    shim = None
    if shim_port is not None:
        shim = LambdaShim(int(moto_port), port=shim_port)
        shim.runner = types.SimpleNamespace(invoke=service.task)
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):
            pass

        def answer(self, value, status=200):
            body = json.dumps(value).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self):
            if self.path != "/dump":
                return self.answer({"error": "not found"}, 404)
            with lock:
                self.answer(service.dump())

        def do_POST(self):
            length = int(self.headers.get("Content-Length", "0"))
            request = json.loads(self.rfile.read(length) or b"{}")
            try:
                with lock:
                    if self.path == "/http":
                        return self.answer(service.http(request))
                    if self.path == "/settle":
                        return self.answer(service.settle())
                    if self.path == "/fire":
                        return self.answer(service.fire(request["rule"]))
                    if self.path == "/workflow":
                        if shim is None:
                            return self.answer({"error": "no shim: start lambda_service.py with --shim PORT (moto's MOTO_PORT)"}, 500)
                        return self.answer(service.run_workflow(request["workflow"], request["inputs"], request.get("timeScale", 1)))
                    if self.path == "/invoke":
                        ok, value = service.invoke(request["function"], request.get("payload"))
                        return self.answer({"ok": ok, "value": value})
            except Exception as e:   # the test reads the reason
                return self.answer({"error": f"{type(e).__name__}: {e}"}, 500)
            self.answer({"error": "not found"}, 404)

    def stop():
        if shim is not None:
            shim.close()
        service.stop()

    loopback.main(Handler, on_exit=stop)


if __name__ == "__main__":
    main()
