"""The two steps of the SAM CLI tests (tests/tests/e2e/sam_cli.rs) that are
not the SAM CLI's: run with the SAM CLI's own venv (target/venv-sam).

    sam_cli.py translate PACKAGED OUT
        Turns the template `sam package` wrote into plain CloudFormation with
        the aws-sam-translator the SAM CLI ships, as AWS CloudFormation does on
        its side for `Transform: AWS::Serverless-2016-10-31`. moto cannot: it
        skips every AWS::Serverless::* resource with a warning and still
        reports the stack CREATE_COMPLETE, so `sam deploy` is given this
        translation instead.

    sam_cli.py create-bucket --endpoint URL --bucket BUCKET
        Creates the bucket `sam package` and `sam deploy` upload to (their
        own `--resolve-s3` fails on moto: the managed stack it creates lacks
        the tags and outputs SAM checks).

    sam_cli.py read-back --endpoint URL --stack NAME --bucket BUCKET
        Prints, as JSON, what the stack holds (sam_deploy.py's read-back: the
        functions, their event source mappings, queues and roles) and every
        zip in the artifacts bucket, keyed by the SHA-256 Lambda reports for
        it, with its entries and the SHA-256 (hex) of each.

    sam_cli.py function --endpoint URL --name NAME --zip ZIP
        Prints one function's configuration, as Lambda returns it, with the
        Lambda SHA-256 of the file ZIP and its entries' SHA-256 (hex) (for the
        `cargo lambda deploy` test, tests/tests/e2e/cargo_lambda_deploy.rs).

    sam_cli.py layer --endpoint URL --name NAME
        Prints the latest version of layer NAME, as Lambda returns it (for
        the `cargo lambda deploy --extension` test).

Only loopback endpoints are accepted: nothing here can reach real AWS.
"""

import argparse
import base64
import hashlib
import io
import json
import os
import zipfile
from pathlib import Path

from samtranslator.translator.transform import transform
from samtranslator.yaml_helper import yaml_parse

from sam_deploy import REGION, NoManagedPolicies, client, loopback_only, read_back


def translate(packaged, out):
    template = yaml_parse(Path(packaged).read_text())
    Path(out).write_text(json.dumps(transform(template, {}, NoManagedPolicies()), indent=2))


def zip_entries(data):
    """{name: sha256 hex} of every file in the zip `data`."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {
            info.filename: hashlib.sha256(archive.read(info)).hexdigest()
            for info in archive.infolist()
            if not info.is_dir()
        }


def artifacts(endpoint, bucket):
    """{lambda's CodeSha256: {"key", "entries": {name: sha256 hex}}} of every zip in `bucket`."""
    s3 = client("s3", endpoint)
    zips = {}
    for listed in s3.list_objects_v2(Bucket=bucket).get("Contents", []):
        body = s3.get_object(Bucket=bucket, Key=listed["Key"])["Body"].read()
        if zipfile.is_zipfile(io.BytesIO(body)):
            sha256 = base64.b64encode(hashlib.sha256(body).digest()).decode()
            zips[sha256] = {"key": listed["Key"], "entries": zip_entries(body)}
    return zips


def main():
    parser = argparse.ArgumentParser()
    commands = parser.add_subparsers(dest="command", required=True)
    translating = commands.add_parser("translate")
    translating.add_argument("packaged")
    translating.add_argument("out")
    reading = commands.add_parser("read-back")
    reading.add_argument("--endpoint", required=True)
    reading.add_argument("--stack", required=True)
    reading.add_argument("--bucket", required=True)
    bucket = commands.add_parser("create-bucket")
    bucket.add_argument("--endpoint", required=True)
    bucket.add_argument("--bucket", required=True)
    function = commands.add_parser("function")
    function.add_argument("--endpoint", required=True)
    function.add_argument("--name", required=True)
    function.add_argument("--zip", required=True)
    layer = commands.add_parser("layer")
    layer.add_argument("--endpoint", required=True)
    layer.add_argument("--name", required=True)
    args = parser.parse_args()
    # The translator reads the region (for its ARNs) from the environment.
    os.environ.update(AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing", AWS_DEFAULT_REGION=REGION)
    if args.command == "translate":
        translate(args.packaged, args.out)
        return
    loopback_only(args.endpoint)
    if args.command == "create-bucket":
        client("s3", args.endpoint).create_bucket(Bucket=args.bucket)
        return
    if args.command == "layer":
        lambda_ = client("lambda", args.endpoint)
        latest = lambda_.list_layer_versions(LayerName=args.name)["LayerVersions"][0]["Version"]
        version = lambda_.get_layer_version(LayerName=args.name, VersionNumber=latest)
        version.pop("ResponseMetadata", None)
        print(json.dumps(version, indent=2, default=str))
        return
    if args.command == "function":
        configuration = client("lambda", args.endpoint).get_function_configuration(FunctionName=args.name)
        configuration.pop("ResponseMetadata", None)
        data = Path(args.zip).read_bytes()
        configuration["zip"] = {
            "sha256": base64.b64encode(hashlib.sha256(data).digest()).decode(),
            "size": len(data),
            "entries": zip_entries(data),
        }
        print(json.dumps(configuration, indent=2, default=str))
        return
    created = read_back(args.endpoint, args.stack)
    cloudformation = client("cloudformation", args.endpoint)
    created["stack_status"] = cloudformation.describe_stacks(StackName=args.stack)["Stacks"][0]["StackStatus"]
    lambda_ = client("lambda", args.endpoint)
    for function in created["functions"].values():
        function["code_size"] = lambda_.get_function_configuration(FunctionName=function["name"])["CodeSize"]
    created["artifacts"] = artifacts(args.endpoint, args.bucket)
    print(json.dumps(created, indent=2, default=str))


if __name__ == "__main__":
    main()
