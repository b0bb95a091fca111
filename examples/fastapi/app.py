"""The Dapr bindings tutorial's Task API in FastAPI, with the Dapr Python SDK
unchanged: it runs behind `bindery run` locally, and behind bindery's Lambda
functions and extension in the cloud, exactly as behind daprd.

Input bindings (bindery POSTs to them, as daprd does):
  POST /cron-binding    the schedule: drop completed tasks, write a report, email it
  POST /task-events     SQS: each message is a task to create (400 if it is not)
  POST /github-webhook  a verified GitHub webhook
Output bindings, through DaprClient().invoke_binding:
  http-binding (post), reports (create), notifications (create)

Listens on 127.0.0.1:$APP_PORT (set by `bindery run --app-port`), default 8080.
"""

import json
import os
import threading
import time

import uvicorn
from dapr.clients import DaprClient
from fastapi import FastAPI, HTTPException, Request, Response
from pydantic import BaseModel, ValidationError

app = FastAPI(title="task-api (FastAPI)")
lock = threading.Lock()
tasks: dict[int, dict] = {}
next_id = 0
webhooks: list[dict] = []
_dapr = None


def dapr() -> DaprClient:
    """The client, made on first use: constructing it waits for the sidecar's
    /v1.0/healthz/outbound, so it must not happen at import."""
    global _dapr
    if _dapr is None:
        _dapr = DaprClient()
    return _dapr


class NewTask(BaseModel):
    title: str


def add_task(title: str) -> dict:
    global next_id
    with lock:
        next_id += 1
        task = {"id": next_id, "title": title, "done": False}
        tasks[next_id] = task
        return dict(task)


@app.get("/tasks")
def list_tasks():
    with lock:
        return list(tasks.values())


@app.post("/tasks", status_code=201)
def create_task(new: NewTask):
    return add_task(new.title)


@app.post("/tasks/{task_id}/complete")
def complete_task(task_id: int):
    with lock:
        if task_id not in tasks:
            raise HTTPException(404, "no such task")
        tasks[task_id]["done"] = True
        task = dict(tasks[task_id])
    # Tell the monitoring webhook through the http-binding, as the tutorial does.
    dapr().invoke_binding("http-binding", "post", json.dumps({"event": "task.completed", "task": task}))
    return task


# Dapr's subscription probe: bindery (like daprd) asks OPTIONS /<binding>
# before it delivers to a binding whose component does not say direction.
@app.options("/cron-binding")
@app.options("/task-events")
@app.options("/github-webhook")
def subscribed():
    return Response(status_code=200)


@app.post("/cron-binding")
def cleanup(request: Request):
    with lock:
        removed = [t for t in tasks.values() if t["done"]]
        for task in removed:
            del tasks[task["id"]]
    fired = request.headers.get("readtimeutc", "?")
    report = {"fired": fired, "removed": removed}
    key = f"cleanup/{int(time.time() * 1000)}.json"
    client = dapr()
    client.invoke_binding("reports", "create", json.dumps(report), {"fileName": key, "key": key})
    titles = "".join(f"<li>{t['title']}</li>" for t in removed)
    body = f"<p>{len(removed)} completed tasks removed.</p><ul>{titles}</ul><p>Report: {key}</p>"
    mail = client.invoke_binding("notifications", "create", body, {"subject": f"Cleanup: {len(removed)} tasks removed"})
    return {"removed": len(removed), "fired": fired, "report": key, "email": mail.binding_metadata.get("messageId")}


@app.post("/task-events")
async def task_event(request: Request):
    try:
        new = NewTask.model_validate_json(await request.body())
    except ValidationError:
        # Not a task: 400, so bindery reports the message failed and SQS redelivers it.
        return Response(status_code=400)
    add_task(new.title)
    return Response(status_code=204)


@app.post("/github-webhook")
async def github_webhook(request: Request):
    # bindery has verified the signature before this runs.
    event = {"event": request.headers.get("x-github-event", "unknown"), "bytes": len(await request.body())}
    webhooks.append(event)
    return {"received": event["event"], "bytes": event["bytes"]}


@app.get("/webhooks")
def received_webhooks():
    return webhooks


if __name__ == "__main__":
    uvicorn.run(app, host="127.0.0.1", port=int(os.environ.get("APP_PORT", "8080")), log_level="warning")
