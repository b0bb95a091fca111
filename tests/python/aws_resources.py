"""Creates SNS topics, DynamoDB tables and Kinesis streams with boto3, and
reads back what the output bindings wrote to them, for the end-to-end tests
of those bindings (tests/tests/e2e/output_{sns,dynamodb,kinesis}.rs); and
writes what `bindery run`'s stream pollers read (run_{kinesis,dynamodb}.rs).
The writes and readings come from an SDK other than the one bindery uses, as
an app or an operator beside bindery would make them.

Reads one request {"op": NAME, ...} on stdin and prints its answer as JSON.
boto3 finds the emulator as it finds AWS, through its default chain: the test
sets AWS_ENDPOINT_URL (loopback, checked by the test), the keys and the region.
"""

import base64
import json
import sys
import time

import boto3


def sns_topic_with_queue(request):
    """A topic (FIFO when asked) with an SQS queue subscribed to it."""
    sns, sqs = boto3.client("sns"), boto3.client("sqs")
    name, fifo = request["name"], request.get("fifo", False)
    suffix = ".fifo" if fifo else ""
    attributes = {"FifoTopic": "true"} if fifo else {}
    if fifo and request.get("content_deduplication"):
        attributes["ContentBasedDeduplication"] = "true"
    topic_arn = sns.create_topic(Name=name + suffix, Attributes=attributes)["TopicArn"]
    # SNS passes a FIFO message's deduplication id on to the queue; one
    # deduplicated by the topic's content arrives without one.
    queue_attributes = {"FifoQueue": "true", "ContentBasedDeduplication": "true"} if fifo else {}
    queue_url = sqs.create_queue(QueueName=name + "-q" + suffix, Attributes=queue_attributes)["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sns.subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=queue_arn)
    return {"topic_arn": topic_arn, "queue_url": queue_url}


def sqs_messages(request):
    """Every message now on the queue, with its system attributes: for a
    queue subscribed to a topic, each body is SNS's JSON envelope, parsed."""
    sqs = boto3.client("sqs")
    messages = sqs.receive_message(
        QueueUrl=request["queue_url"], MaxNumberOfMessages=10, AttributeNames=["All"], WaitTimeSeconds=1
    ).get("Messages", [])
    return [{"envelope": json.loads(m["Body"]), "attributes": m.get("Attributes", {})} for m in messages]


def dynamodb_table(request):
    """A table whose partition key is `id`, a string; with `"stream": true`,
    a stream of new and old images, whose ARN is returned."""
    dynamodb = boto3.client("dynamodb")
    stream = {"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"} if request.get("stream") else None
    created = dynamodb.create_table(
        TableName=request["name"],
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
        **({"StreamSpecification": stream} if stream else {}),
    )
    return {"table": request["name"], "stream_arn": created["TableDescription"].get("LatestStreamArn")}


def dynamodb_get(request):
    """The item with the string key `id`, in DynamoDB's typed form
    ({"S": ...}, {"N": ...}), or null."""
    item = boto3.client("dynamodb").get_item(
        TableName=request["table"], Key={"id": {"S": request["id"]}}, ConsistentRead=True
    ).get("Item")
    return typed(item) if item is not None else None


def typed(value):
    """boto3's attribute values as JSON: binary values base64."""
    if isinstance(value, dict):
        return {k: typed(v) for k, v in value.items()}
    if isinstance(value, list):
        return [typed(v) for v in value]
    if isinstance(value, (bytes, bytearray)):
        return base64.b64encode(value).decode()
    return value


def dynamodb_put(request):
    """Puts an item given in DynamoDB's typed form (binary values base64), as
    another writer would."""
    boto3.client("dynamodb").put_item(TableName=request["table"], Item=untyped(request["item"]))
    return {}


def dynamodb_delete(request):
    boto3.client("dynamodb").delete_item(TableName=request["table"], Key={"id": {"S": request["id"]}})
    return {}


def untyped(value):
    """The reverse of `typed`: base64 `B` and `BS` values as bytes."""
    if isinstance(value, dict):
        return {
            k: base64.b64decode(v) if k == "B" else [base64.b64decode(b) for b in v] if k == "BS" else untyped(v)
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [untyped(v) for v in value]
    return value


def kinesis_stream(request):
    kinesis = boto3.client("kinesis")
    kinesis.create_stream(StreamName=request["name"], ShardCount=request.get("shards", 1))
    for _ in range(100):
        status = kinesis.describe_stream_summary(StreamName=request["name"])["StreamDescriptionSummary"]
        if status["StreamStatus"] == "ACTIVE":
            return {"stream": request["name"]}
        time.sleep(0.1)
    raise RuntimeError("the stream did not become active")


def kinesis_put(request):
    """Puts records one by one, in order, as a producer would: each
    `{"key": partition key, "data": text}`; returns where each went."""
    kinesis = boto3.client("kinesis")
    placed = []
    for record in request["records"]:
        put = kinesis.put_record(StreamName=request["stream"], PartitionKey=record["key"], Data=record["data"].encode())
        placed.append({"shard_id": put["ShardId"], "sequence_number": put["SequenceNumber"]})
    return placed


def kinesis_records(request):
    """Every record in every shard, from the start (TRIM_HORIZON), the data base64."""
    kinesis = boto3.client("kinesis")
    records = []
    for shard in kinesis.list_shards(StreamName=request["stream"])["Shards"]:
        iterator = kinesis.get_shard_iterator(
            StreamName=request["stream"], ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
        )["ShardIterator"]
        for record in kinesis.get_records(ShardIterator=iterator, Limit=1000)["Records"]:
            records.append(
                {
                    "shard_id": shard["ShardId"],
                    "sequence_number": record["SequenceNumber"],
                    "partition_key": record["PartitionKey"],
                    "data": base64.b64encode(record["Data"]).decode(),
                }
            )
    return records


def idempotency_calls(request):
    """The floor of the idempotency bench (tests/benches/functions.rs): the
    two writes of one delivery (the conditional PutItem marking it in
    progress, the PutItem completing it) for `records` ids, `threads` at
    once, timed `rounds` times; the median round's seconds."""
    import concurrent.futures
    import time

    dynamodb = boto3.client("dynamodb")
    table, count = request["table"], request["records"]

    def record(key):
        dynamodb.put_item(
            TableName=table,
            Item={"id": {"S": key}, "status": {"S": "INPROGRESS"}, "expiration": {"N": "9999999999"},
                  "in_progress_expiration": {"N": "9999999999000"}},
            ConditionExpression="attribute_not_exists(#id)",
            ExpressionAttributeNames={"#id": "id"},
        )
        dynamodb.put_item(
            TableName=table,
            Item={"id": {"S": key}, "status": {"S": "COMPLETED"}, "expiration": {"N": "9999999999"},
                  "data": {"S": "{}"}},
        )

    times = []
    with concurrent.futures.ThreadPoolExecutor(request["threads"]) as pool:
        for round_ in range(request["rounds"]):
            started = time.monotonic()
            list(pool.map(record, [f"floor#{round_}-{i}" for i in range(count)]))
            times.append(time.monotonic() - started)
    return sorted(times)[len(times) // 2]


OPS = {f.__name__: f for f in [sns_topic_with_queue, sqs_messages, dynamodb_table, dynamodb_get, dynamodb_put,
                               dynamodb_delete, kinesis_stream, kinesis_put, kinesis_records, idempotency_calls]}


def main():
    request = json.load(sys.stdin)
    json.dump(OPS[request["op"]](request), sys.stdout)


if __name__ == "__main__":
    main()
