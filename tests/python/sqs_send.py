"""Sends SQS messages with boto3, as an app or a script beside bindery would,
for the tests of `bindery run`'s SQS poller (tests/tests/e2e/run_sqs.rs).

Reads {"queue_url": URL, "messages": [{"body": TEXT, "attributes": {NAME: TEXT}}]}
on stdin and prints {"ids": [MESSAGE ID, ...]}, in the same order, on stdout.
boto3 finds the emulator as it finds AWS, through its default chain: the test
sets AWS_ENDPOINT_URL (loopback), the keys and the region, and nothing else.
"""

import json
import sys

import boto3


def main():
    request = json.load(sys.stdin)
    sqs = boto3.client("sqs")
    ids = []
    for message in request["messages"]:
        attributes = {
            name: {"DataType": "String", "StringValue": value}
            for name, value in message.get("attributes", {}).items()
        }
        sent = sqs.send_message(
            QueueUrl=request["queue_url"],
            MessageBody=message["body"],
            MessageAttributes=attributes,
        )
        ids.append(sent["MessageId"])
    json.dump({"ids": ids}, sys.stdout)


if __name__ == "__main__":
    main()
