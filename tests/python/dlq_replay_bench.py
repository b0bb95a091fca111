"""Replay throughput of `bindery dlq replay` beside a floor, on one emulator.

Fills a dead-letter queue with N messages, times `bindery dlq replay` moving
them back (whole process), fills it again and times the floor: the same SQS
calls made by boto3 in one loop (receive ten, then send and delete each),
with nothing else. Prints one JSON object. Run by scripts/bench-dlq-replay.
"""

import json
import os
import subprocess
import sys
import tempfile
import time
import uuid

import boto3

ENDPOINT = os.environ["AWS_ENDPOINT_URL"]
COUNT = int(sys.argv[2]) if len(sys.argv) > 2 else 10_000
BINDERY = sys.argv[1]

sqs = boto3.client("sqs")


def queues():
    name = f"bench-{uuid.uuid4().hex[:8]}"
    dlq = sqs.create_queue(QueueName=f"{name}-dlq")["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    policy = json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": 5})
    source = sqs.create_queue(QueueName=name, Attributes={"RedrivePolicy": policy})["QueueUrl"]
    return name, source, dlq


def fill(dlq):
    for start in range(0, COUNT, 10):
        entries = [{"Id": str(i), "MessageBody": f"message {start + i}"} for i in range(min(10, COUNT - start))]
        sqs.send_message_batch(QueueUrl=dlq, Entries=entries)


def count(url):
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"])
    return int(attributes["Attributes"]["ApproximateNumberOfMessages"])


def bindery(name, *extra):
    with tempfile.TemporaryDirectory() as components:
        with open(os.path.join(components, "tasks.yaml"), "w") as f:
            f.write(
                "apiVersion: dapr.io/v1alpha1\nkind: Component\nmetadata:\n  name: tasks\nspec:\n"
                "  type: bindings.aws.sqs\n  version: v1\n  metadata:\n"
                f"  - name: queueName\n    value: {name}\n  - name: direction\n    value: input\n"
                f"  - name: endpoint\n    value: {ENDPOINT}\n  - name: region\n    value: us-east-1\n"
                "  - name: accessKey\n    value: test\n  - name: secretKey\n    value: test\n"
            )
        started = time.monotonic()
        subprocess.run([BINDERY, "dlq", "replay", "-d", components, "tasks", *extra],
                       check=True, stdout=subprocess.DEVNULL)
        return time.monotonic() - started


def floor(source, dlq):
    started = time.monotonic()
    moved = 0
    while moved < COUNT:
        messages = sqs.receive_message(QueueUrl=dlq, MaxNumberOfMessages=10, VisibilityTimeout=60).get("Messages", [])
        if not messages:
            break
        for message in messages:
            sqs.send_message(QueueUrl=source, MessageBody=message["Body"])
            sqs.delete_message(QueueUrl=dlq, ReceiptHandle=message["ReceiptHandle"])
            moved += 1
    return time.monotonic() - started


def run(replay):
    name, source, dlq = queues()
    fill(dlq)
    seconds = replay(name, source, dlq)
    assert count(dlq) == 0 and count(source) == COUNT, (count(dlq), count(source))
    return seconds


# --max: one message at a time (received ten at once, each sent, then deleted).
one_at_a_time = run(lambda name, source, dlq: bindery(name, "--max", str(COUNT)))
floor_seconds = run(lambda name, source, dlq: floor(source, dlq))
result = {
    "emulator": os.environ.get("BENCH_EMULATOR", "moto"),
    "messages": COUNT,
    "bindery_one_at_a_time_seconds": round(one_at_a_time, 2),
    "bindery_one_at_a_time_per_second": round(COUNT / one_at_a_time),
    "floor_seconds": round(floor_seconds, 2),
    "floor_per_second": round(COUNT / floor_seconds),
}
if os.environ.get("BENCH_EMULATOR") == "localstack":
    # Without --max: SQS's message move task, which LocalStack has and moto has not.
    move_task = run(lambda name, source, dlq: bindery(name))
    result["bindery_move_task_seconds"] = round(move_task, 2)
    result["bindery_move_task_per_second"] = round(COUNT / move_task)
print(json.dumps(result))
