#!/usr/bin/env python3
"""The AWS side of infc's Lambda runtime tests, through boto3 on the emulator at http://127.0.0.1:PORT.

    lambda_fixture.py PORT setup TEMPLATE STACK [--prefix] [--definitions]   creates every table,
        bucket, topic (with a tap queue subscribed, raw delivery, to capture what is published),
        queue, state machine and secret of the template (named after their logical ids, or
        STACK-LogicalId with --prefix so that several apps share one emulator; state machines
        STACK-NAME, secrets STACK/NAME with the value "sk_test_<name>"), then prints each function's
        environment with the template's Ref and Fn::Sub resolved to what was created:
        {"functions": {NAME: {VAR: value}}, "stateMachines": {WORKFLOW: ARN}}. State machines run
        nothing, unless --definitions: then each is created from the template's DefinitionString
        with its DefinitionSubstitutions resolved (functions by their INFC_FUNCTION name), so that
        the emulator can execute it (switch its execute_state_machine config on first);
        --time-scale N divides its fixed waits and its timeout by N (whole seconds, rounded up: a
        test-only time scale, as `infc run --time-scale` is for the local runtime).
    lambda_fixture.py PORT dump [PREFIX]         prints what the tables, buckets, queues (drained)
        and executions hold (only those named PREFIX...): {"tables": {table: {id: item}}, "objects":
        {bucket: {key: {b64, type, meta}}}, "queues": {queue: [SQS records as Lambda gets them]},
        "executions": [inputs]}
"""
import base64
import json
import math
import sys
from decimal import Decimal

import boto3
from boto3.dynamodb.types import TypeDeserializer

# The emulator's port (when run as a script; lambda_service.py imports `scaled` only).
PORT = sys.argv[1] if __name__ == "__main__" else None
REGION, ACCOUNT = "us-east-1", "123456789012"
KW = dict(endpoint_url=f"http://127.0.0.1:{PORT}", region_name=REGION,
          aws_access_key_id="testing", aws_secret_access_key="testing")


def plain(value):
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, (list, set)):
        return [plain(v) for v in value]
    if isinstance(value, (bytes, bytearray)):
        return base64.b64encode(bytes(value)).decode()
    if hasattr(value, "value") and isinstance(getattr(value, "value"), (bytes, bytearray)):
        return base64.b64encode(bytes(value.value)).decode()
    return value


def scaled(definition, scale):
    """A definition's `Wait` `Seconds` and `TimeoutSeconds` divided by `scale` (rounded up)."""
    def walk(node):
        if isinstance(node, dict):
            for key in ("Seconds", "TimeoutSeconds"):
                if isinstance(node.get(key), int) and (key == "TimeoutSeconds" or node.get("Type") == "Wait"):
                    node[key] = math.ceil(node[key] / scale)
            for v in node.values():
                walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)
    d = json.loads(definition)
    walk(d)
    return json.dumps(d)


def setup(template_path, stack, prefix=False, definitions=False, scale=1):
    template = json.load(open(template_path))
    resources = template["Resources"]
    ddb, s3, sns, sqs = (boto3.client(s, **KW) for s in ("dynamodb", "s3", "sns", "sqs"))
    sfn, sm = boto3.client("stepfunctions", **KW), boto3.client("secretsmanager", **KW)
    ref, att = {}, {}

    def named(logical):
        return f"{stack}-{logical}" if prefix else logical

    for logical, r in sorted(resources.items()):
        t = r["Type"]
        name = named(logical)
        if t == "AWS::DynamoDB::Table":
            ddb.create_table(TableName=name, KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
                             AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}], BillingMode="PAY_PER_REQUEST")
            ref[logical] = name
        elif t == "AWS::S3::Bucket":
            s3.create_bucket(Bucket=name.lower())
            ref[logical] = name.lower()
        elif t == "AWS::SQS::Queue":
            ref[logical] = sqs.create_queue(QueueName=name)["QueueUrl"]
            att[(logical, "Arn")] = sqs.get_queue_attributes(QueueUrl=ref[logical], AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        elif t == "AWS::SNS::Topic":
            arn = sns.create_topic(Name=name)["TopicArn"]
            tap = sqs.create_queue(QueueName=name + "Tap")["QueueUrl"]
            tap_arn = sqs.get_queue_attributes(QueueUrl=tap, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
            sns.subscribe(TopicArn=arn, Protocol="sqs", Endpoint=tap_arn, Attributes={"RawMessageDelivery": "true"})
            ref[logical] = arn
        elif t == "AWS::Lambda::Function":
            ref[logical] = logical
    pseudo = {"AWS::StackName": stack, "AWS::Region": REGION, "AWS::AccountId": ACCOUNT, "AWS::Partition": "aws"}

    def sub(text):
        for k, v in pseudo.items():
            text = text.replace("${" + k + "}", v)
        return text

    # Functions by the name their bootstrap answers to; state machines by their ARN.
    function_arn = {logical: f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:" + r["Properties"]["Environment"]["Variables"]["INFC_FUNCTION"]
                    for logical, r in resources.items() if r["Type"] == "AWS::Lambda::Function"}
    machine_name = {logical: sub(r["Properties"]["StateMachineName"]) if isinstance(r["Properties"].get("StateMachineName"), str)
                    else sub(r["Properties"]["StateMachineName"]["Fn::Sub"])
                    for logical, r in resources.items() if r["Type"] == "AWS::StepFunctions::StateMachine"}
    for logical, name in machine_name.items():
        ref[logical] = f"arn:aws:states:{REGION}:{ACCOUNT}:stateMachine:{name}"

    def substitution(value):
        if isinstance(value, dict) and "Fn::GetAtt" in value:
            target, attribute = value["Fn::GetAtt"]
            if attribute == "Arn" and target in function_arn:
                return function_arn[target]
            if attribute == "Arn" and target in ref:
                return ref[target]
        if isinstance(value, dict) and "Ref" in value:
            return ref[value["Ref"]]
        if isinstance(value, dict) and "Fn::Sub" in value:
            return sub(value["Fn::Sub"])
        raise SystemExit(f"cannot resolve the substitution {value}")

    machines = {}
    for logical, r in sorted(resources.items()):
        p = r.get("Properties", {})
        if r["Type"] == "AWS::StepFunctions::StateMachine":
            definition = json.dumps({"StartAt": "Done", "States": {"Done": {"Type": "Pass", "End": True}}})
            if definitions:
                # CloudFormation's substitution: each ${Key} of the definition's strings.
                definition = p["DefinitionString"]
                for key, value in p.get("DefinitionSubstitutions", {}).items():
                    definition = definition.replace("${" + key + "}", substitution(value))
                if "${" in definition:
                    # CloudFormation refuses a placeholder it has no substitution for.
                    raise SystemExit(f"{logical}: the definition keeps a ${{…}} without a substitution: "
                                     + definition[definition.index("${"):][:80])
                if scale != 1:
                    definition = scaled(definition, scale)
            created = sfn.create_state_machine(name=machine_name[logical], definition=definition, roleArn=f"arn:aws:iam::{ACCOUNT}:role/x")
            machines[json.loads(p["DefinitionString"]).get("Comment", "").rsplit(" ", 1)[-1]] = created["stateMachineArn"]
        elif r["Type"] == "AWS::SecretsManager::Secret":
            name = p["Name"] if isinstance(p["Name"], str) else sub(p["Name"]["Fn::Sub"])
            sm.create_secret(Name=name, SecretString="sk_test_" + name.split("/")[-1])

    def resolve(value):
        if isinstance(value, str):
            return value
        if "Ref" in value:
            return ref[value["Ref"]]
        if "Fn::Sub" in value:
            return sub(value["Fn::Sub"])
        if "Fn::GetAtt" in value and tuple(value["Fn::GetAtt"]) in att:
            return att[tuple(value["Fn::GetAtt"])]
        raise SystemExit(f"cannot resolve {value}")

    functions = {}
    for logical, r in sorted(resources.items()):
        if r["Type"] == "AWS::Lambda::Function":
            env = {k: resolve(v) for k, v in r["Properties"]["Environment"]["Variables"].items()}
            functions[env["INFC_FUNCTION"]] = env
    print(json.dumps({"functions": functions, "stateMachines": machines}))


def records(sqs, url, arn):
    out = []
    while True:
        got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=0).get("Messages", [])
        if not got:
            return out
        for m in got:
            out.append({"messageId": m["MessageId"], "receiptHandle": m["ReceiptHandle"], "body": m["Body"],
                        "attributes": {}, "messageAttributes": {}, "md5OfBody": m["MD5OfBody"],
                        "eventSource": "aws:sqs", "eventSourceARN": arn, "awsRegion": REGION})
            sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])


def dump(prefix=""):
    ddb, s3, sqs, sfn = (boto3.client(s, **KW) for s in ("dynamodb", "s3", "sqs", "stepfunctions"))
    des = TypeDeserializer()
    tables = {}
    for t in ddb.list_tables()["TableNames"]:
        if not t.startswith(prefix):
            continue
        items = ddb.scan(TableName=t, ConsistentRead=True)["Items"]
        tables[t] = {i["id"]["S"]: plain({k: des.deserialize(v) for k, v in i.items()}) for i in items}
    objects = {}
    for b in s3.list_buckets()["Buckets"]:
        if not b["Name"].startswith(prefix.lower()):
            continue
        objects[b["Name"]] = {}
        for o in s3.list_objects_v2(Bucket=b["Name"]).get("Contents", []):
            got = s3.get_object(Bucket=b["Name"], Key=o["Key"])
            objects[b["Name"]][o["Key"]] = {"b64": base64.b64encode(got["Body"].read()).decode(),
                                            "type": got.get("ContentType"), "meta": got.get("Metadata", {})}
    queues = {}
    for url in sqs.list_queues().get("QueueUrls", []):
        if not url.rsplit("/", 1)[-1].startswith(prefix):
            continue
        arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        queues[url.rsplit("/", 1)[-1]] = records(sqs, url, arn)
    executions = []
    for m in sfn.list_state_machines()["stateMachines"]:
        if not m["name"].startswith(prefix):
            continue
        for e in sfn.list_executions(stateMachineArn=m["stateMachineArn"])["executions"]:
            executions.append(json.loads(sfn.describe_execution(executionArn=e["executionArn"])["input"]))
    print(json.dumps({"tables": tables, "objects": objects, "queues": queues, "executions": executions}))


if __name__ == "__main__":
    if sys.argv[2] == "setup":
        options = sys.argv[5:]
        setup(sys.argv[3], sys.argv[4], prefix="--prefix" in options, definitions="--definitions" in options,
              scale=float(options[options.index("--time-scale") + 1]) if "--time-scale" in options else 1)
    elif sys.argv[2] == "dump":
        dump(sys.argv[3] if len(sys.argv) > 3 else "")
    else:
        raise SystemExit(__doc__)
