"""Deploys a SAM template written by `bindery infra` on an AWS emulator on
loopback, as `sam package` and `sam deploy` would, offline, and prints what
the emulator created, as JSON, for the Rust test to check.

    sam_deploy.py TEMPLATE --endpoint http://127.0.0.1:PORT [--bootstrap BINARY]
                  --out DIR [--stack NAME] [--parameter KEY=VALUE]...

1. Packages: every function's code becomes a zip holding BINARY as
   `bootstrap` (what `sam build` would have built), or without --bootstrap,
   a zip of its own CodeUri directory, which must hold a `bootstrap` (a
   `bindery infra --prebuilt` template); every layer a zip of its ContentUri
   directory. The zips are uploaded to the emulator's S3 and the template
   points at them (what `sam package` does).
2. Translates SAM to plain CloudFormation with aws-sam-translator, and
   writes the result to DIR/translated.json.
3. Creates the stack on the emulator and waits for it.
4. Reads back the functions, event source mappings, queues and IAM role
   policies, and prints them, with the directory each function's code was
   zipped from and the zip's SHA-256 (as Lambda reports it).

Only loopback endpoints are accepted: nothing here can reach real AWS.
"""

import argparse
import ast
import base64
import hashlib
import io
import ipaddress
import json
import os
import sys
import time
import urllib.parse
import zipfile
from pathlib import Path

import boto3
from samtranslator.translator.transform import transform
from samtranslator.yaml_helper import yaml_parse

REGION = "us-east-1"
BUCKET = "bindery-sam-artifacts"


class NoManagedPolicies:
    """bindery's templates name no managed policy; SAM's own are full ARNs."""

    def load(self):
        return {}

    def get_managed_policy_map(self):
        return {}


def loopback_only(endpoint):
    host = urllib.parse.urlparse(endpoint).hostname or ""
    try:
        ok = ipaddress.ip_address(host).is_loopback
    except ValueError:
        ok = host == "localhost"
    if not ok:
        sys.exit(f"refusing {endpoint!r}: the emulator must be on loopback")


def client(service, endpoint):
    return boto3.client(
        service,
        endpoint_url=endpoint,
        region_name=REGION,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


def zip_bytes(entries):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data, mode in entries:
            info = zipfile.ZipInfo(name)
            info.external_attr = mode << 16
            archive.writestr(info, data)
    return buffer.getvalue()


def directory_zip(directory):
    """The files of `directory` (not its subdirectories), executables kept executable."""
    files = sorted(p for p in directory.iterdir() if p.is_file())
    return zip_bytes([(p.name, p.read_bytes(), 0o755 if os.access(p, os.X_OK) else 0o644) for p in files])


def prebuilt_code(template_dir, name, code_uri):
    """The zip of a function's own CodeUri directory, which must hold a `bootstrap`."""
    if not isinstance(code_uri, str):
        sys.exit(f"{name}: CodeUri {code_uri!r} is not a directory: give --bootstrap")
    directory = template_dir / code_uri
    if not (directory / "bootstrap").is_file():
        sys.exit(f"{name}: no bootstrap in {directory}")
    return directory_zip(directory)


def package(template, template_dir, bootstrap, s3):
    """Uploads code and layers; returns the template pointing at them, and
    {function: {"code_uri", "sha256"}} for the code of each."""
    s3.create_bucket(Bucket=BUCKET)
    built = zip_bytes([("bootstrap", Path(bootstrap).read_bytes(), 0o755)]) if bootstrap else None
    template.get("Globals", {}).get("Function", {}).pop("CodeUri", None)
    packaged = {}
    for name, resource in template["Resources"].items():
        properties = resource.setdefault("Properties", {})
        if resource["Type"] == "AWS::Serverless::Function":
            code_uri = properties.get("CodeUri")
            code = built or prebuilt_code(template_dir, name, code_uri)
            s3.put_object(Bucket=BUCKET, Key=f"{name}.zip", Body=code)
            properties["CodeUri"] = {"Bucket": BUCKET, "Key": f"{name}.zip"}
            sha256 = base64.b64encode(hashlib.sha256(code).digest()).decode()
            packaged[name] = {"code_uri": None if built else code_uri, "sha256": sha256}
        elif resource["Type"] == "AWS::Serverless::LayerVersion":
            layer = directory_zip(template_dir / properties["ContentUri"])
            s3.put_object(Bucket=BUCKET, Key=f"{name}.zip", Body=layer)
            properties["ContentUri"] = {"Bucket": BUCKET, "Key": f"{name}.zip"}
    return template, packaged


def create_stack(cloudformation, name, body, parameters):
    cloudformation.create_stack(
        StackName=name,
        TemplateBody=json.dumps(body),
        Parameters=[{"ParameterKey": k, "ParameterValue": v} for k, v in parameters.items()],
        Capabilities=["CAPABILITY_IAM", "CAPABILITY_NAMED_IAM", "CAPABILITY_AUTO_EXPAND"],
    )
    deadline = time.monotonic() + 120
    while True:
        stack = cloudformation.describe_stacks(StackName=name)["Stacks"][0]
        status = stack["StackStatus"]
        if status.endswith("_COMPLETE") or status.endswith("_FAILED"):
            break
        if time.monotonic() > deadline:
            sys.exit(f"stack {name} still {status} after 120 s")
        time.sleep(0.2)
    if status != "CREATE_COMPLETE":
        events = cloudformation.describe_stack_events(StackName=name)["StackEvents"]
        reasons = [e.get("ResourceStatusReason") for e in events if e.get("ResourceStatusReason")]
        sys.exit(f"stack {name}: {status}: {reasons}")
    return stack


def document(policy):
    """A policy document as a dict; moto hands back the Python repr of one."""
    if isinstance(policy, dict):
        return policy
    try:
        return json.loads(policy)
    except ValueError:
        return ast.literal_eval(policy)


def read_back(endpoint, stack_name):
    cloudformation = client("cloudformation", endpoint)
    lambda_ = client("lambda", endpoint)
    sqs = client("sqs", endpoint)
    iam = client("iam", endpoint)
    resources = cloudformation.list_stack_resources(StackName=stack_name)["StackResourceSummaries"]
    by_type = {}
    for r in resources:
        by_type.setdefault(r["ResourceType"], []).append(r)
    all_mappings = lambda_.list_event_source_mappings()["EventSourceMappings"]
    functions = {}
    for r in by_type.get("AWS::Lambda::Function", []):
        config = lambda_.get_function_configuration(FunctionName=r["PhysicalResourceId"])
        mappings = [m for m in all_mappings if m.get("FunctionArn") == config["FunctionArn"]]
        functions[r["LogicalResourceId"]] = {
            "name": config["FunctionName"],
            "runtime": config.get("Runtime"),
            "handler": config.get("Handler"),
            "architectures": config.get("Architectures"),
            "timeout": config.get("Timeout"),
            "code_sha256": config.get("CodeSha256"),
            "memory": config.get("MemorySize"),
            "environment": config.get("Environment", {}).get("Variables", {}),
            "layers": [layer["Arn"] for layer in config.get("Layers", [])],
            "role": config.get("Role"),
            "event_source_mappings": [
                {
                    "event_source_arn": m.get("EventSourceArn"),
                    "batch_size": m.get("BatchSize"),
                    "maximum_batching_window": m.get("MaximumBatchingWindowInSeconds"),
                    "function_response_types": m.get("FunctionResponseTypes", []),
                    "scaling_config": m.get("ScalingConfig", {}),
                }
                for m in mappings
            ],
        }
    queues = {}
    for r in by_type.get("AWS::SQS::Queue", []):
        attributes = sqs.get_queue_attributes(QueueUrl=r["PhysicalResourceId"], AttributeNames=["All"])["Attributes"]
        queues[r["LogicalResourceId"]] = attributes
    roles = {}
    for r in by_type.get("AWS::IAM::Role", []):
        role = r["PhysicalResourceId"]
        inline = {
            name: document(iam.get_role_policy(RoleName=role, PolicyName=name)["PolicyDocument"])
            for name in iam.list_role_policies(RoleName=role)["PolicyNames"]
        }
        attached = [p["PolicyArn"] for p in iam.list_attached_role_policies(RoleName=role)["AttachedPolicies"]]
        arn = iam.get_role(RoleName=role)["Role"]["Arn"]
        roles[r["LogicalResourceId"]] = {"arn": arn, "inline": inline, "attached": attached}
    logs = client("logs", endpoint)
    log_groups = {}
    for r in by_type.get("AWS::Logs::LogGroup", []):
        found = logs.describe_log_groups(logGroupNamePrefix=r["PhysicalResourceId"])["logGroups"]
        group = next((g for g in found if g["logGroupName"] == r["PhysicalResourceId"]), {})
        log_groups[r["LogicalResourceId"]] = {"name": group.get("logGroupName"), "retention": group.get("retentionInDays")}
    layers = {
        layer["LayerName"]: layer["LatestMatchingVersion"]["LayerVersionArn"]
        for layer in lambda_.list_layers()["Layers"]
    }
    return {
        "resources": {r["LogicalResourceId"]: r["ResourceType"] for r in resources if r["LogicalResourceId"]},
        "layers": layers,
        "functions": functions,
        "queues": queues,
        "roles": roles,
        "log_groups": log_groups,
    }


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("template")
    parser.add_argument("--endpoint", required=True)
    parser.add_argument("--bootstrap")
    parser.add_argument("--out", required=True)
    parser.add_argument("--stack", default="bindery")
    parser.add_argument("--parameter", action="append", default=[])
    args = parser.parse_args()
    loopback_only(args.endpoint)
    os.environ.update(AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing", AWS_DEFAULT_REGION=REGION)

    template_path = Path(args.template).resolve()
    template = yaml_parse(template_path.read_text())
    parameters = dict(p.split("=", 1) for p in args.parameter)
    template, packaged = package(template, template_path.parent, args.bootstrap, client("s3", args.endpoint))
    translated = transform(template, parameters, NoManagedPolicies())
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "translated.json").write_text(json.dumps(translated, indent=2))

    create_stack(client("cloudformation", args.endpoint), args.stack, translated, parameters)
    created = read_back(args.endpoint, args.stack)
    created["packaged"] = packaged
    print(json.dumps(created, indent=2, default=str))


if __name__ == "__main__":
    main()
