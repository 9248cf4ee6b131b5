"""The AWS target against real tools: cfn-lint on every example's template, and the shop's
template deployed to moto (server mode, loopback) and checked through each service's own API.

    INFC=.build/debug/infc python3 -m pytest -q scripts/aws_template_test.py

moto's CloudFormation reports CREATE_COMPLETE while it skips SNS::Subscription, SQS::QueuePolicy,
the ApiGatewayV2 types and SecretsManager::Secret: those are created here through their own APIs
from the template's properties (intrinsics resolved against the stack's resources) and checked
there. Nothing here trusts the stack status alone.
"""
import ast
import glob
import io
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import zipfile

import boto3
import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
INFC = os.environ.get("INFC", os.path.join(ROOT, ".build/debug/infc"))
EXAMPLES = sorted(glob.glob(os.path.join(ROOT, "examples", "*.inf")))
REGION = "us-east-1"
# cfn-lint's own entry point, through this Python (the package has no `python -m` form).
CFN_LINT = [sys.executable, "-c", "import sys; from cfnlint.runner import main; sys.exit(main())"]


def build(source, out):
    r = subprocess.run([INFC, "build", source, "--target", "aws", "-o", out, "-q"], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    with open(os.path.join(out, "template.json"), encoding="utf-8") as f:
        return json.load(f), r.stderr


PLAN_GOLDENS = sorted(glob.glob(os.path.join(ROOT, "Tests", "Golden", "plan", "*.inf"))
                      + glob.glob(os.path.join(ROOT, "Tests", "Golden", "workflows", "*.inf")))


@pytest.mark.parametrize("source", EXAMPLES, ids=[os.path.basename(e) for e in EXAMPLES])
def test_cfn_lint_reports_nothing(source, tmp_path):
    build(source, str(tmp_path))
    r = subprocess.run(CFN_LINT + ["--format", "parseable", str(tmp_path / "template.json")],
                       capture_output=True, text=True, timeout=300)
    # cfn-lint's exit code has bit 2 for errors, 4 for warnings; it prints one line per finding.
    assert r.returncode & 6 == 0 and r.stdout.strip() == "", r.stdout + r.stderr


def test_cfn_lint_reports_nothing_on_the_plan_goldens(tmp_path):
    """Every plan golden that builds (one cfn-lint run over all of them)."""
    templates = []
    for source in PLAN_GOLDENS:
        out = tmp_path / os.path.basename(source)[:-4]
        r = subprocess.run([INFC, "build", source, "--target", "aws", "-o", str(out), "-q"], capture_output=True, timeout=60)
        if r.returncode == 0:
            templates.append(str(out / "template.json"))
    assert len(templates) >= 7
    r = subprocess.run(CFN_LINT + ["--format", "parseable"] + templates, capture_output=True, text=True, timeout=300)
    assert r.returncode & 6 == 0 and r.stdout.strip() == "", r.stdout + r.stderr


def test_cfn_lint_catches_a_broken_template(tmp_path):
    """The lint step can fail: a template with a bad property is reported."""
    template, _ = build(os.path.join(ROOT, "examples", "shop.inf"), str(tmp_path))
    template["Resources"]["ChargeFunction"]["Properties"]["Timeout"] = 5000
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(template))
    r = subprocess.run(CFN_LINT + [str(bad)], capture_output=True, text=True, timeout=300)
    assert r.returncode & 2, r.stdout


# MARK: moto

def policy_document(doc):
    """A role policy as returned: a dict, JSON text, or (moto for CloudFormation-made roles) a
    Python literal."""
    if isinstance(doc, dict):
        return doc
    try:
        return json.loads(doc)
    except json.JSONDecodeError:
        return ast.literal_eval(doc)


from conftest import free_port  # noqa: E402,F401  (the session's moto fixture lives in conftest.py)


def client(url, name):
    return boto3.client(name, endpoint_url=url, region_name=REGION,
                        aws_access_key_id="testing", aws_secret_access_key="testing")


class Resolver:
    """Resolves the template's intrinsics against the deployed stack's resources."""

    def __init__(self, template, physical, attributes):
        self.template = template
        self.physical = physical      # logical id → physical id (what Ref gives)
        self.attributes = attributes  # (logical id, attribute) → value
        self.pseudo = {"AWS::Region": REGION, "AWS::AccountId": "123456789012", "AWS::Partition": "aws",
                       "AWS::StackName": "shop", "AWS::URLSuffix": "amazonaws.com"}

    def __call__(self, v):
        if isinstance(v, dict) and len(v) == 1:
            (k, a), = v.items()
            if k == "Ref":
                return self.pseudo.get(a) or self.physical[a]
            if k == "Fn::GetAtt":
                return self.attributes[(a[0], a[1])]
            if k == "Fn::Join":
                return a[0].join(self(x) for x in a[1])
            if k == "Fn::Sub":
                out, i = "", 0
                while i < len(a):
                    j = a.find("${", i)
                    if j < 0:
                        out += a[i:]
                        break
                    end = a.index("}", j)
                    out += a[i:j]
                    name = a[j + 2:end]
                    out += self({"Fn::GetAtt": name.split(".", 1)}) if "." in name and not name.startswith("AWS::") else self({"Ref": name})
                    i = end + 1
                return out
        if isinstance(v, dict):
            return {k: self(x) for k, x in v.items()}
        if isinstance(v, list):
            return [self(x) for x in v]
        return v


def test_shop_deploys_to_moto(moto, tmp_path):
    template, warnings = build(os.path.join(ROOT, "examples", "shop.inf"), str(tmp_path))
    assert "warning" not in warnings, warnings
    resources = template["Resources"]
    by_type = {}
    for rid, r in resources.items():
        by_type.setdefault(r["Type"], []).append(rid)

    s3 = client(moto, "s3")
    s3.create_bucket(Bucket="infc-code")
    package = io.BytesIO()
    with zipfile.ZipFile(package, "w") as z:
        z.writestr("bootstrap", "#!/bin/sh\n")
    s3.put_object(Bucket="infc-code", Key="shop.zip", Body=package.getvalue())

    cf = client(moto, "cloudformation")
    cf.create_stack(StackName="shop", TemplateBody=json.dumps(template), Capabilities=["CAPABILITY_IAM"],
                    Parameters=[{"ParameterKey": "CodeBucket", "ParameterValue": "infc-code"},
                                {"ParameterKey": "CodeKey", "ParameterValue": "shop.zip"}])
    stack = cf.describe_stacks(StackName="shop")["Stacks"][0]
    assert stack["StackStatus"] == "CREATE_COMPLETE", stack.get("StackStatusReason")
    summaries = cf.list_stack_resources(StackName="shop")["StackResourceSummaries"]
    physical = {s["LogicalResourceId"]: s.get("PhysicalResourceId") for s in summaries}
    outputs = {o["OutputKey"]: o["OutputValue"] for o in stack["Outputs"]}

    # Tables: on demand, key `id`.
    ddb = client(moto, "dynamodb")
    for rid in by_type["AWS::DynamoDB::Table"]:
        t = ddb.describe_table(TableName=physical[rid])["Table"]
        assert t["KeySchema"] == [{"AttributeName": "id", "KeyType": "HASH"}]
        assert t["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
    assert outputs["OrdersTableName"] == physical["OrdersTable"]

    # Buckets.
    names = {b["Name"] for b in s3.list_buckets()["Buckets"]}
    for rid in by_type["AWS::S3::Bucket"]:
        assert physical[rid] in names

    # Topics.
    sns = client(moto, "sns")
    topics = {t["TopicArn"] for t in sns.list_topics()["Topics"]}
    for rid in by_type["AWS::SNS::Topic"]:
        assert physical[rid] in topics

    # Queues: redrive to the dead letters, visibility timeout from the plan.
    sqs = client(moto, "sqs")
    arns = {}
    for rid in by_type["AWS::SQS::Queue"]:
        attrs = sqs.get_queue_attributes(QueueUrl=physical[rid], AttributeNames=["All"])["Attributes"]
        arns[rid] = attrs["QueueArn"]
        props = resources[rid]["Properties"]
        if "RedrivePolicy" in props:
            redrive = json.loads(attrs["RedrivePolicy"])
            assert int(redrive["maxReceiveCount"]) == props["RedrivePolicy"]["maxReceiveCount"] == 4
            assert int(attrs["VisibilityTimeout"]) == props["VisibilityTimeout"] == 180
    charge_dlq_arn = arns["ChargeDeadLetterQueue"]
    assert json.loads(sqs.get_queue_attributes(QueueUrl=physical["ChargeQueue"], AttributeNames=["All"])["Attributes"]["RedrivePolicy"])["deadLetterTargetArn"] == charge_dlq_arn

    # Functions: runtime, reserved concurrency, tracing, environment; the event source mapping.
    lam = client(moto, "lambda")
    function_arns = {}
    for rid in by_type["AWS::Lambda::Function"]:
        props = resources[rid]["Properties"]
        fn = lam.get_function(FunctionName=physical[rid])
        conf = fn["Configuration"]
        function_arns[rid] = conf["FunctionArn"]
        assert conf["Runtime"] == "provided.al2023" and conf["Architectures"] == ["x86_64"]
        assert conf["Timeout"] == props["Timeout"] and conf["MemorySize"] == props["MemorySize"]
        # moto's CloudFormation drops TracingConfig (reports PassThrough): the template's Active is
        # checked here and by the Swift tests, not through this emulator.
        assert props["TracingConfig"] == {"Mode": "Active"}
        env = conf["Environment"]["Variables"]
        # A workflow's evaluator runs no handler: it evaluates its workflow's expressions.
        assert env["INFC_FUNCTION"] and (json.loads(env["INFC_HANDLERS"]) or env.get("INFC_EVALUATES") == "follow_up")
        reserved = fn.get("Concurrency", {}).get("ReservedConcurrentExecutions")
        assert reserved == props.get("ReservedConcurrentExecutions"), rid
    assert lam.get_function(FunctionName=physical["ChargeFunction"])["Concurrency"]["ReservedConcurrentExecutions"] == 10
    charge_env = lam.get_function(FunctionName=physical["ChargeFunction"])["Configuration"]["Environment"]["Variables"]
    assert charge_env["INFC_TABLE_orders"] == physical["OrdersTable"]
    assert charge_env["INFC_SECRET_payments_key"] == "shop/payments_key"
    mappings = lam.list_event_source_mappings(FunctionName=physical["ChargeFunction"])["EventSourceMappings"]
    assert len(mappings) == 1
    m = mappings[0]
    assert m["EventSourceArn"] == arns["ChargeQueue"]
    assert m["ScalingConfig"]["MaximumConcurrency"] == 10
    assert m["FunctionResponseTypes"] == ["ReportBatchItemFailures"]

    # Roles with their inline policies: each statement as the template wrote it, its intrinsics
    # resolved against the deployed resources' ARNs.
    iam = client(moto, "iam")
    logs = client(moto, "logs")
    resolve_attrs = {}
    for rid in by_type["AWS::IAM::Role"]:
        resolve_attrs[(rid, "Arn")] = iam.get_role(RoleName=physical[rid])["Role"]["Arn"]
    arn_attrs = dict(resolve_attrs)
    for rid, arn in list(arns.items()) + list(function_arns.items()):
        arn_attrs[(rid, "Arn")] = arn
    for rid in by_type["AWS::DynamoDB::Table"]:
        arn_attrs[(rid, "Arn")] = ddb.describe_table(TableName=physical[rid])["Table"]["TableArn"]
    for rid in by_type["AWS::S3::Bucket"]:
        arn_attrs[(rid, "Arn")] = f"arn:aws:s3:::{physical[rid]}"
    for rid in by_type["AWS::Logs::LogGroup"]:
        group = logs.describe_log_groups(logGroupNamePrefix=physical[rid])["logGroups"][0]
        # AWS's LogGroup Arn attribute ends in `:*`; moto's CloudFormation gives it without.
        arn_attrs[(rid, "Arn")] = group["arn"].removesuffix(":*")
    resolve_arns = Resolver(template, physical, arn_attrs)
    for rid in by_type["AWS::IAM::Role"]:
        policies = iam.list_role_policies(RoleName=physical[rid])["PolicyNames"]
        assert policies == ["infc-least-privilege"], rid
        doc = policy_document(iam.get_role_policy(RoleName=physical[rid], PolicyName="infc-least-privilege")["PolicyDocument"])
        written = resolve_arns(resources[rid]["Properties"]["Policies"][0]["PolicyDocument"])
        assert doc["Statement"] == written["Statement"], rid
        assert all("?" not in json.dumps(x) for x in doc["Statement"] if "secretsmanager:GetSecretValue" not in x["Action"])
    charge_doc = iam.get_role_policy(RoleName=physical["ChargeRole"], PolicyName="infc-least-privilege")["PolicyDocument"]
    charge_doc = policy_document(charge_doc)
    consumer = [s for s in charge_doc["Statement"] if "sqs:ReceiveMessage" in s["Action"]]
    assert consumer and consumer[0]["Resource"] == arns["ChargeQueue"]

    # Log groups with retention.
    groups = {g["logGroupName"]: g for g in logs.describe_log_groups()["logGroups"]}
    for rid in by_type["AWS::Logs::LogGroup"]:
        g = groups[physical[rid]]
        assert g["retentionInDays"] == 30

    # State machines: the compiled definition (the readable copy is the same), the role.
    sfn = client(moto, "stepfunctions")
    with open(os.path.join(str(tmp_path), "workflows", "follow_up.asl.json")) as f:
        copy = json.load(f)
    for rid in by_type["AWS::StepFunctions::StateMachine"]:
        sm = sfn.describe_state_machine(stateMachineArn=physical[rid])
        assert sm["name"] == "shop-follow_up"
        assert json.loads(resources[rid]["Properties"]["DefinitionString"]) == copy
        assert json.loads(sm["definition"])["StartAt"] == copy["StartAt"] == "Start"
        role_ref = resources[rid]["Properties"]["RoleArn"]["Fn::GetAtt"][0]
        assert sm["roleArn"] == resolve_attrs[(role_ref, "Arn")]

    # What moto's CloudFormation skips: created here through each service's API, from the template.
    attributes = dict(resolve_attrs)
    for rid, arn in arns.items():
        attributes[(rid, "Arn")] = arn
    for rid, arn in function_arns.items():
        attributes[(rid, "Arn")] = arn
    for rid in by_type.get("AWS::Events::Rule", []):
        attributes[(rid, "Arn")] = client(moto, "events").describe_rule(Name=physical[rid])["Arn"]
    resolve = Resolver(template, physical, attributes)

    sm = client(moto, "secretsmanager")
    for rid in by_type["AWS::SecretsManager::Secret"]:
        props = resolve(resources[rid]["Properties"])
        assert "SecretString" not in props and "GenerateSecretString" not in props
        created = sm.create_secret(Name=props["Name"], Description=props["Description"])
        assert sm.describe_secret(SecretId=props["Name"])["ARN"] == created["ARN"]
        physical[rid] = created["ARN"]

    api_ids = by_type["AWS::ApiGatewayV2::Api"]
    gw = client(moto, "apigatewayv2")
    api = gw.create_api(**resolve(resources[api_ids[0]]["Properties"]))
    physical[api_ids[0]] = api["ApiId"]
    for rid in by_type["AWS::ApiGatewayV2::Stage"]:
        gw.create_stage(**resolve(resources[rid]["Properties"]))
    for rid in by_type["AWS::ApiGatewayV2::Integration"]:
        props = resolve(resources[rid]["Properties"])
        assert props["IntegrationUri"] in function_arns.values() and props["PayloadFormatVersion"] == "2.0"
        physical[rid] = gw.create_integration(**props)["IntegrationId"]
    for rid in by_type["AWS::ApiGatewayV2::Route"]:
        gw.create_route(**resolve(resources[rid]["Properties"]))
    routes = {r["RouteKey"]: r["Target"] for r in gw.get_routes(ApiId=api["ApiId"])["Items"]}
    assert set(routes) == {"POST /orders", "GET /orders/{id}"}
    integrations = {i["IntegrationId"]: i for i in gw.get_integrations(ApiId=api["ApiId"])["Items"]}
    for target in routes.values():
        assert integrations[target.split("/", 1)[1]]["IntegrationType"] == "AWS_PROXY"
    stages = [s["StageName"] for s in gw.get_stages(ApiId=api["ApiId"])["Items"]]
    assert stages == ["$default"]
    assert resolve(template["Outputs"]["ApiUrl"]["Value"]) == f"https://{api['ApiId']}.execute-api.{REGION}.amazonaws.com"
    # The routes' invoke permissions (created by the stack) name this API once it exists.
    for rid in [r for r in by_type["AWS::Lambda::Permission"] if resources[r]["Properties"]["Principal"] == "apigateway.amazonaws.com"]:
        assert resolve(resources[rid]["Properties"]["SourceArn"]).startswith(f"arn:aws:execute-api:{REGION}:123456789012:{api['ApiId']}/")

    for rid in by_type["AWS::SNS::Subscription"]:
        props = resolve(resources[rid]["Properties"])
        attrs = {"RawMessageDelivery": "true"} if props.get("RawMessageDelivery") else {}
        sns.subscribe(TopicArn=props["TopicArn"], Protocol=props["Protocol"], Endpoint=props["Endpoint"], Attributes=attrs)
    subs = sns.list_subscriptions_by_topic(TopicArn=physical["OrderEventsTopic"])["Subscriptions"]
    assert [(s["Protocol"], s["Endpoint"]) for s in subs] == [("lambda", function_arns["OnOrderEventsFunction"])]

    for rid in by_type.get("AWS::SQS::QueuePolicy", []):
        props = resolve(resources[rid]["Properties"])
        for url in props["Queues"]:
            sqs.set_queue_attributes(QueueUrl=url, Attributes={"Policy": json.dumps(props["PolicyDocument"])})
            assert json.loads(sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["Policy"])["Attributes"]["Policy"]) == props["PolicyDocument"]

    # The schedule's rule targets its function.
    events = client(moto, "events")
    for rid in by_type["AWS::Events::Rule"]:
        rule = events.describe_rule(Name=physical[rid])
        assert rule["ScheduleExpression"] == resources[rid]["Properties"]["ScheduleExpression"] == "rate(1 day)"
        targets = events.list_targets_by_rule(Rule=physical[rid])["Targets"]
        assert [t["Arn"] for t in targets] == [function_arns["Every1dFunction"]]

    # Every resource of the template was created, by the stack or here.
    assert set(physical) >= set(resources) - set(by_type.get("AWS::SNS::Subscription", [])) - set(by_type["AWS::ApiGatewayV2::Stage"]) - set(by_type["AWS::ApiGatewayV2::Route"])
