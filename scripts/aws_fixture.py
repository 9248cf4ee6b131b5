#!/usr/bin/env python3
"""Resources and readings for infc's AWS client tests, through boto3 (an independent client) on the
emulator at http://127.0.0.1:PORT.

    aws_fixture.py PORT setup   creates a table, a bucket, a topic with a queue subscribed, a queue,
                                a state machine and a secret; prints their names as JSON
    aws_fixture.py PORT dump    prints what they hold as JSON: items, objects (base64), the
                                messages of both queues, the executions' inputs
    aws_fixture.py PORT seed N  puts N items into the table and N objects into the bucket
    aws_fixture.py PORT stack NAME
                                the stack NAME as deployed: its status and parameters, each resource
                                with whether its own service's API finds it, the value of the secret
                                NAME/payments_key, and the artifact buckets' keys, as JSON
    aws_fixture.py PORT loggroup NAME
                                creates the log group NAME (to make a deployment collide with it)
"""
import base64
import json
import sys
from decimal import Decimal

import boto3
from boto3.dynamodb.types import TypeDeserializer

PORT = sys.argv[1]
KW = dict(endpoint_url=f"http://127.0.0.1:{PORT}", region_name="us-east-1",
          aws_access_key_id="testing", aws_secret_access_key="testing")
NAMES = {"table": "orders", "bucket": "receipts", "topic": "order-events", "queue": "emails",
         "topicQueue": "order-events-tap", "stateMachine": "fulfil", "secret": "stripe-key"}


def plain(value):
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    if isinstance(value, (bytes, bytearray)):
        return base64.b64encode(bytes(value)).decode()
    return value


def setup():
    ddb = boto3.client("dynamodb", **KW)
    ddb.create_table(TableName=NAMES["table"], KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
                     AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}], BillingMode="PAY_PER_REQUEST")
    boto3.client("s3", **KW).create_bucket(Bucket=NAMES["bucket"])
    sqs = boto3.client("sqs", **KW)
    queue = sqs.create_queue(QueueName=NAMES["queue"])["QueueUrl"]
    tap = sqs.create_queue(QueueName=NAMES["topicQueue"])["QueueUrl"]
    tap_arn = sqs.get_queue_attributes(QueueUrl=tap, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sns = boto3.client("sns", **KW)
    topic = sns.create_topic(Name=NAMES["topic"])["TopicArn"]
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=tap_arn, Attributes={"RawMessageDelivery": "true"})
    definition = {"StartAt": "Done", "States": {"Done": {"Type": "Pass", "End": True}}}
    machine = boto3.client("stepfunctions", **KW).create_state_machine(
        name=NAMES["stateMachine"], definition=json.dumps(definition),
        roleArn="arn:aws:iam::123456789012:role/fulfil")["stateMachineArn"]
    secret = boto3.client("secretsmanager", **KW).create_secret(Name=NAMES["secret"], SecretString="sk_test_ünïcode")["ARN"]
    print(json.dumps({"table": NAMES["table"], "bucket": NAMES["bucket"], "topicArn": topic, "queueUrl": queue,
                      "topicQueueUrl": tap, "stateMachineArn": machine, "secretArn": secret, "secretName": NAMES["secret"]}))


def receive_all(sqs, url):
    bodies = []
    while True:
        got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=0).get("Messages", [])
        if not got:
            return sorted(bodies)
        bodies += [m["Body"] for m in got]


def dump():
    ddb = boto3.client("dynamodb", **KW)
    d = TypeDeserializer()
    items = []
    for page in ddb.get_paginator("scan").paginate(TableName=NAMES["table"]):
        items += [plain({k: d.deserialize(v) for k, v in item.items()}) for item in page["Items"]]
    s3 = boto3.client("s3", **KW)
    objects = {}
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=NAMES["bucket"]):
        for o in page.get("Contents", []):
            objects[o["Key"]] = base64.b64encode(s3.get_object(Bucket=NAMES["bucket"], Key=o["Key"])["Body"].read()).decode()
    sqs = boto3.client("sqs", **KW)
    sfn = boto3.client("stepfunctions", **KW)
    machine = [m for m in sfn.list_state_machines()["stateMachines"] if m["name"] == NAMES["stateMachine"]][0]
    inputs = sorted(sfn.describe_execution(executionArn=e["executionArn"])["input"]
                    for e in sfn.list_executions(stateMachineArn=machine["stateMachineArn"])["executions"])
    print(json.dumps({"items": sorted(items, key=lambda i: str(i.get("id"))), "objects": objects,
                      "queue": receive_all(sqs, sqs.get_queue_url(QueueName=NAMES["queue"])["QueueUrl"]),
                      "topicQueue": receive_all(sqs, sqs.get_queue_url(QueueName=NAMES["topicQueue"])["QueueUrl"]),
                      "executionInputs": inputs}, ensure_ascii=False))


def seed(n):
    ddb = boto3.client("dynamodb", **KW)
    s3 = boto3.client("s3", **KW)
    for i in range(n):
        ddb.put_item(TableName=NAMES["table"], Item={"id": {"S": f"seed-{i:04d}"}, "n": {"N": str(i)}})
        s3.put_object(Bucket=NAMES["bucket"], Key=f"seed/{i:04d}", Body=f"object {i}".encode())


def exists(kind, physical):
    """Whether the resource's own service finds it (None for types no API lists alone)."""
    checks = {
        "AWS::DynamoDB::Table": lambda: boto3.client("dynamodb", **KW).describe_table(TableName=physical),
        "AWS::S3::Bucket": lambda: boto3.client("s3", **KW).head_bucket(Bucket=physical),
        "AWS::SNS::Topic": lambda: boto3.client("sns", **KW).get_topic_attributes(TopicArn=physical),
        "AWS::SQS::Queue": lambda: boto3.client("sqs", **KW).get_queue_attributes(QueueUrl=physical),
        "AWS::Lambda::Function": lambda: boto3.client("lambda", **KW).get_function(FunctionName=physical),
        "AWS::Lambda::EventSourceMapping": lambda: boto3.client("lambda", **KW).get_event_source_mapping(UUID=physical),
        "AWS::IAM::Role": lambda: boto3.client("iam", **KW).get_role(RoleName=physical),
        "AWS::StepFunctions::StateMachine": lambda: boto3.client("stepfunctions", **KW).describe_state_machine(stateMachineArn=physical),
        "AWS::Events::Rule": lambda: boto3.client("events", **KW).describe_rule(Name=physical),
    }
    if kind == "AWS::Logs::LogGroup":
        groups = boto3.client("logs", **KW).describe_log_groups(logGroupNamePrefix=physical)["logGroups"]
        return any(g["logGroupName"] == physical for g in groups)
    if kind not in checks:
        return None
    try:
        checks[kind]()
        return True
    except Exception:
        return False


def stack(name):
    cf = boto3.client("cloudformation", **KW)
    try:
        described = cf.describe_stacks(StackName=name)["Stacks"][0]
        summaries = cf.list_stack_resources(StackName=name)["StackResourceSummaries"]
    except cf.exceptions.ClientError:
        described, summaries = {"StackStatus": "NONE"}, []
    resources = {r["LogicalResourceId"]: {"type": r["ResourceType"], "physical": r.get("PhysicalResourceId"),
                                          "exists": exists(r["ResourceType"], r.get("PhysicalResourceId"))}
                 for r in summaries if r.get("LogicalResourceId")}
    try:
        secret = boto3.client("secretsmanager", **KW).get_secret_value(SecretId=f"{name}/payments_key")["SecretString"]
    except Exception:
        secret = None
    s3 = boto3.client("s3", **KW)
    artifacts = sorted(f"{b['Name']}/{o['Key']}" for b in s3.list_buckets()["Buckets"] if b["Name"].startswith("infc-artifacts-")
                       for o in s3.list_objects_v2(Bucket=b["Name"]).get("Contents", []))
    print(json.dumps({"status": described["StackStatus"],
                      "parameters": {p["ParameterKey"]: p["ParameterValue"] for p in described.get("Parameters", [])},
                      "resources": resources, "secret": secret, "artifacts": artifacts}))


if __name__ == "__main__":
    command = sys.argv[2]
    if command == "setup":
        setup()
    elif command == "dump":
        dump()
    elif command == "seed":
        seed(int(sys.argv[3]))
    elif command == "stack":
        stack(sys.argv[3])
    elif command == "loggroup":
        boto3.client("logs", **KW).create_log_group(logGroupName=sys.argv[3])
    else:
        sys.exit(f"unknown command {command}")
