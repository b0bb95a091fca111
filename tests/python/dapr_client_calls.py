"""Runs output-binding calls through the real Dapr Python SDK (gRPC) and
through daprd's HTTP API, against whatever sidecar DAPR_HTTP_PORT and
DAPR_GRPC_PORT point at, and prints what each call answered as JSON.

stdin: a JSON list of calls, each
  {"via": "grpc" | "http", "binding": ..., "operation": ...,
   "data": <text, gRPC> | <any JSON value, HTTP>, "metadata": {...}}
stdout: a JSON list of results, in the same order, each
  {"ok": true, "data": <text>, "metadata": {...}, "headers": {...}, "status": <HTTP status>}
  {"ok": false, "code": <gRPC code name>, "message": ..., "reason": ..., "domain": ..., "error_metadata": {...},
   "headers": {...}}
  {"ok": false, "code": <HTTP status>, "message": ..., "error": {...}, "headers": {...}}
"""

import base64
import json
import os
import sys
import urllib.error
import urllib.request

import grpc

from dapr.clients import DaprClient
from dapr.clients.exceptions import DaprGrpcError


def text(data: bytes):
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return "base64:" + base64.b64encode(data).decode()


def grpc_call(client, call):
    try:
        response = client.invoke_binding(
            call["binding"], call["operation"], call.get("data", ""), call.get("metadata") or {}
        )
    except grpc.RpcError as raw:
        # The SDK raises the channel's error as is; DaprGrpcError reads its
        # google.rpc details the way Dapr apps do.
        error = raw if isinstance(raw, DaprGrpcError) else DaprGrpcError(raw)
        info = error.status_details().error_info or {}
        metadata = list(raw.initial_metadata() or []) + list(raw.trailing_metadata() or []) if hasattr(raw, "trailing_metadata") else []
        return {
            "ok": False,
            "code": error.code().name,
            "message": error.details(),
            "reason": info.get("reason"),
            "domain": info.get("domain"),
            "error_metadata": info.get("metadata", {}),
            "headers": {k: v for k, v in metadata if k.startswith("metadata.")},
        }
    headers = {k: v for k, v in response.headers.items() if k.startswith("metadata.")}
    return {"ok": True, "data": text(response.data), "metadata": response.binding_metadata, "headers": headers}


def http_call(call):
    base = f"http://127.0.0.1:{os.environ['DAPR_HTTP_PORT']}/v1.0/bindings/{call['binding']}"
    body = {"operation": call["operation"], "metadata": call.get("metadata") or {}}
    if "data" in call:
        body["data"] = call["data"]
    request = urllib.request.Request(
        base, data=json.dumps(body).encode(), method="POST", headers={"Content-Type": "application/json"}
    )
    token = os.environ.get("DAPR_API_TOKEN")
    if token:
        request.add_header("dapr-api-token", token)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            headers = {k.lower(): v for k, v in response.headers.items() if k.lower().startswith("metadata.")}
            return {"ok": True, "status": response.status, "data": text(response.read()), "headers": headers,
                    "content_type": response.headers.get("Content-Type")}
    except urllib.error.HTTPError as error:
        headers = {k.lower(): v for k, v in error.headers.items() if k.lower().startswith("metadata.")}
        raw = error.read()
        try:
            parsed = json.loads(raw)
        except ValueError:
            parsed = {"text": text(raw)}
        return {"ok": False, "code": error.code, "message": parsed.get("message"), "error": parsed, "headers": headers}


def main():
    calls = json.load(sys.stdin)
    results = []
    # Constructing the client waits for GET /v1.0/healthz/outbound, as with daprd.
    with DaprClient() as client:
        for call in calls:
            results.append(grpc_call(client, call) if call["via"] == "grpc" else http_call(call))
    json.dump(results, sys.stdout)


if __name__ == "__main__":
    main()
