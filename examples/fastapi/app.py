"""The Task API of the Dapr bindings tutorial, in FastAPI, with the Dapr Python
SDK unchanged: it runs behind daprd, `bindery run`, or bindery's Lambda
functions alike.

Input bindings arrive as Dapr delivers them, `POST /<binding name>`:
  /cron-binding    the schedule: drop tasks completed long enough ago, write a
                   report (`reports`) and email it (`notifications`)
  /task-events     an SQS message whose body is a task to create
  /github-webhook  a GitHub event, verified by bindery before it gets here
Output bindings go through the Dapr sidecar (`DaprClient().invoke_binding`):
  http-binding     completing a task notifies the monitoring webhook
  reports          the cleanup report (S3 on AWS, a folder locally)
  notifications    the cleanup email (SES on AWS, .eml files locally)

Run it with `python app.py` (port $APP_PORT, else $PORT, else 8080) or with
`uvicorn app:app`.
"""

import json
import logging
import os
import threading
import time
from collections import deque
from datetime import datetime, timezone
from html import escape
from typing import Optional

from dapr.clients import DaprClient
from fastapi import FastAPI, HTTPException, Request, Response
from pydantic import BaseModel, ValidationError

# DaprClient() blocks until the sidecar answers /v1.0/healthz/outbound, for up
# to DAPR_HEALTH_TIMEOUT (the SDK's default is 60 s). A request that needs the
# sidecar should fail within seconds when it is missing, not hang a minute.
os.environ.setdefault("DAPR_HEALTH_TIMEOUT", "5")

# Completed tasks are dropped by the cleanup once they are this old.
CLEANUP_AFTER_SECONDS = float(os.environ.get("CLEANUP_AFTER_SECONDS", "3600"))

log = logging.getLogger("task-api")
app = FastAPI(title="Task API")


class NewTask(BaseModel):
    title: str


class Task(BaseModel):
    id: int
    title: str
    done: bool = False
    completed_at: Optional[float] = None


class Store:
    """The tasks, in memory; handlers run on a thread pool, hence the lock."""

    def __init__(self):
        self.lock = threading.Lock()
        self.next_id = 0
        self.tasks: dict[int, Task] = {}

    def create(self, title: str) -> Task:
        with self.lock:
            self.next_id += 1
            task = Task(id=self.next_id, title=title)
            self.tasks[task.id] = task
            return task.model_copy()


store = Store()
webhook_events: deque = deque(maxlen=100)

# One client, made on first use rather than at import: the app must start and
# answer even while the sidecar is not there yet.
_client: Optional[DaprClient] = None
_client_lock = threading.Lock()


def dapr() -> DaprClient:
    global _client
    with _client_lock:
        if _client is None:
            _client = DaprClient()
        return _client


def invoke(binding: str, operation: str, data: str, metadata: Optional[dict] = None) -> None:
    """An output binding call; a failure answers 502, so the caller (or, for
    an input binding, bindery and then AWS) knows and can retry."""
    try:
        dapr().invoke_binding(binding, operation, data, metadata or {})
    except Exception as error:  # the SDK raises gRPC and timeout errors alike
        log.warning("output binding %s (%s) failed: %s", binding, operation, error)
        raise HTTPException(status_code=502, detail=f"{binding}: {error}") from error


@app.get("/tasks")
def list_tasks() -> list[Task]:
    with store.lock:
        return [task.model_copy() for task in store.tasks.values()]


@app.post("/tasks", status_code=201)
def create_task(new: NewTask) -> Task:
    return store.create(new.title)


@app.post("/tasks/{task_id}/complete")
def complete_task(task_id: int) -> Task:
    with store.lock:
        task = store.tasks.get(task_id)
        if task is None:
            raise HTTPException(status_code=404, detail=f"no task {task_id}")
        task.done = True
        task.completed_at = task.completed_at or time.time()
        done = task.model_copy()
    event = {"event": "task.completed", "task": done.model_dump()}
    invoke("http-binding", "post", json.dumps(event))
    return done


@app.post("/cron-binding")
def cleanup(request: Request) -> dict:
    """The schedule fired (Dapr's `readtimeutc` header says when; the body is
    empty): drop old completed tasks, store a report and email it."""
    cutoff = time.time() - CLEANUP_AFTER_SECONDS
    with store.lock:
        removed = [t for t in store.tasks.values() if t.done and (t.completed_at or 0) <= cutoff]
        for task in removed:
            del store.tasks[task.id]
    fired = request.headers.get("readtimeutc", "")
    now = datetime.now(timezone.utc)
    name = f"cleanup/{now.strftime('%Y%m%dT%H%M%S.%fZ')}.json"
    report = {"fired": fired, "removed": [t.model_dump() for t in removed]}
    # `fileName` names the file for bindings.localstorage, `key` the object
    # for bindings.aws.s3; each binding reads its own.
    invoke("reports", "create", json.dumps(report), {"fileName": name, "key": name})
    items = "".join(f"<li>{escape(t.title)}</li>" for t in removed)
    body = f"<p>{len(removed)} completed tasks removed.</p><ul>{items}</ul><p>Report: {escape(name)}</p>"
    invoke("notifications", "create", body, {"subject": f"Cleanup: {len(removed)} tasks removed"})
    log.info("cleanup ran: %d removed, fired %s", len(removed), fired or "?")
    return {"removed": len(removed), "report": name}


@app.post("/task-events")
async def task_event(request: Request) -> Response:
    """One SQS message: a task to create. A body that is not a task answers
    400, so the message is reported failed and SQS redelivers (then
    dead-letters) it."""
    try:
        new = NewTask.model_validate_json(await request.body())
    except ValidationError:
        return Response(status_code=400)
    task = store.create(new.title)
    log.info("task %d created from a queued event", task.id)
    return Response(status_code=204)


@app.post("/github-webhook")
async def github_webhook(request: Request) -> dict:
    """A GitHub event; bindery has checked its signature before this runs."""
    event = request.headers.get("x-github-event", "unknown")
    delivery = request.headers.get("x-github-delivery", "")
    body = await request.body()
    webhook_events.append({"event": event, "delivery": delivery, "bytes": len(body), "at": time.time()})
    log.info("webhook event %s received (%d bytes)", event, len(body))
    return {"received": event}


@app.get("/github-webhook/events")
def list_webhook_events() -> list:
    return list(webhook_events)


# daprd asks `OPTIONS /<binding>` at start to learn which input bindings the
# app handles; any 2xx means yes.
for route in ("/cron-binding", "/task-events", "/github-webhook"):
    app.add_api_route(route, lambda: Response(status_code=200), methods=["OPTIONS"], include_in_schema=False)


if __name__ == "__main__":
    import uvicorn

    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    port = int(os.environ.get("APP_PORT") or os.environ.get("PORT") or "8080")
    uvicorn.run(app, host=os.environ.get("APP_HOST", "127.0.0.1"), port=port)
