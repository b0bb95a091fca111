//! The Task API of the Dapr bindings tutorial, as plain HTTP handlers.
//!
//! It knows nothing of AWS: the cron binding arrives as `POST /cron-binding`,
//! SQS messages as `POST /task-events`, webhooks as `POST /github-webhook`,
//! changes to a table of tasks (a DynamoDB stream) as `POST /task-changes`,
//! exactly as daprd would deliver them. Its side effects go through bindery's
//! output bindings, named as in its components:
//!
//! - completing a task notifies the monitoring webhook (`http-binding`), as
//!   in the tutorial, and announces it (`task-done`: an SNS topic on AWS, a
//!   folder locally) with Dapr's `create`, whichever the binding is;
//! - the nightly cleanup writes a report (`reports`: S3 on AWS, a folder
//!   locally) and emails it (`notifications`: SES on AWS, `.eml` files locally).
//!
//! bindery's functions call it either in-process (`task-api-lambda`) or over
//! HTTP (`task-api`).

use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{get, post};
use axum::{Json, Router};
use bindery::output::{Bindings, Email, InvokeError, InvokeRequest};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Task {
    pub id: u64,
    pub title: String,
    pub done: bool,
}

#[derive(Debug, Default)]
struct Store {
    next_id: u64,
    tasks: Vec<Task>,
}

#[derive(Clone)]
struct AppState {
    store: Arc<Mutex<Store>>,
    bindings: Arc<Bindings>,
}

#[derive(Deserialize)]
struct NewTask {
    title: String,
}

/// The app's routes, with the output bindings it calls.
pub fn app(bindings: Arc<Bindings>) -> Router {
    Router::new()
        .route("/tasks", get(list).post(create))
        .route("/tasks/{id}/complete", post(complete))
        .route("/cron-binding", post(cleanup))
        .route("/task-events", post(task_event))
        .route("/github-webhook", post(github_webhook))
        .route("/task-changes", post(task_change))
        .with_state(AppState { store: Arc::default(), bindings })
}

fn lock(state: &AppState) -> std::sync::MutexGuard<'_, Store> {
    // A poisoned lock only means another handler panicked; the data is still usable.
    state.store.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// A failed side effect: 502 with the binding's message, so the caller (or
/// bindery, for an input binding) sees it and can retry.
fn failed(what: &str, error: &InvokeError) -> (StatusCode, Json<Value>) {
    tracing::warn!(what, error = %error, "output binding failed");
    (StatusCode::BAD_GATEWAY, Json(json!({ "error": format!("{what}: {error}") })))
}

async fn list(State(state): State<AppState>) -> Json<Vec<Task>> {
    Json(lock(&state).tasks.clone())
}

async fn create(State(state): State<AppState>, Json(new): Json<NewTask>) -> (StatusCode, Json<Task>) {
    let mut s = lock(&state);
    s.next_id += 1;
    let task = Task { id: s.next_id, title: new.title, done: false };
    s.tasks.push(task.clone());
    (StatusCode::CREATED, Json(task))
}

/// Marks the task done, then tells the monitoring webhook, as the tutorial's
/// `/tasks/{id}/complete` does through its `http-binding`.
async fn complete(State(state): State<AppState>, Path(id): Path<u64>) -> Result<Json<Task>, (StatusCode, Json<Value>)> {
    let task = {
        let mut s = lock(&state);
        let task = s.tasks.iter_mut().find(|t| t.id == id).ok_or((StatusCode::NOT_FOUND, Json(Value::Null)))?;
        task.done = true;
        task.clone()
    };
    let event = json!({ "event": "task.completed", "task": task });
    state
        .bindings
        .http("http-binding")
        .post("", event.to_string())
        .await
        .map_err(|e| failed("task completed, but the monitoring webhook was not told", &e))?;
    // Dapr's SNS `create` data: the message and its subject.
    let announcement = json!({ "message": event.to_string(), "subject": format!("Task {} done", task.id) });
    let announcement =
        InvokeRequest::new("create", announcement.to_string()).with_metadata("attr-event", "task.completed");
    state
        .bindings
        .invoke("task-done", announcement)
        .await
        .map_err(|e| failed("task completed, but task-done was not announced", &e))?;
    Ok(Json(task))
}

/// The cron binding: drop completed tasks, write a report and email it. The
/// body is empty; Dapr's `readtimeutc` header says when the schedule fired.
/// A failed report or email answers 502, so the schedule's retry policy runs
/// it again.
async fn cleanup(State(state): State<AppState>, headers: HeaderMap) -> Result<Json<Value>, (StatusCode, Json<Value>)> {
    let removed: Vec<Task> = {
        let mut s = lock(&state);
        let (done, open) = std::mem::take(&mut s.tasks).into_iter().partition(|t| t.done);
        s.tasks = open;
        done
    };
    let fired = headers.get("readtimeutc").and_then(|v| v.to_str().ok()).unwrap_or("?").to_owned();
    // The trace this run belongs to, to find it from the log line.
    let traceparent = headers.get("traceparent").and_then(|v| v.to_str().ok());
    tracing::info!(removed = removed.len(), fired, traceparent, "cleanup ran");

    let report = json!({ "fired": fired, "removed": removed });
    let millis = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default().as_millis();
    let key = format!("cleanup/{millis}.json");
    state.bindings.storage("reports").put(&key, report.to_string()).await.map_err(|e| failed("report", &e))?;

    let titles: String = removed.iter().map(|t| format!("<li>{}</li>", html_escape(&t.title))).collect();
    let body = format!("<p>{} completed tasks removed.</p><ul>{titles}</ul><p>Report: {key}</p>", removed.len());
    let email =
        Email { subject: Some(format!("Nightly cleanup: {} tasks removed", removed.len())), body, ..Email::default() };
    let message_id = state.bindings.email("notifications").send(&email).await.map_err(|e| failed("email", &e))?;

    Ok(Json(json!({ "removed": removed.len(), "fired": fired, "report": key, "email": message_id })))
}

fn html_escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

/// SQS input: each message is a task to create. A message that is not a task
/// gets 400, so bindery reports it failed and SQS redelivers it (then DLQs it).
async fn task_event(State(state): State<AppState>, body: axum::body::Bytes) -> StatusCode {
    let Ok(new) = serde_json::from_slice::<NewTask>(&body) else { return StatusCode::BAD_REQUEST };
    let mut s = lock(&state);
    s.next_id += 1;
    let id = s.next_id;
    s.tasks.push(Task { id, title: new.title, done: false });
    StatusCode::NO_CONTENT
}

/// DynamoDB stream input (`streamFormat: plain`): each task written to the
/// table by another system joins the list. The change's name is the
/// `eventName` metadata; the body is the item, or the old one for a REMOVE,
/// which is acknowledged and left alone. An INSERT that is not a task gets
/// 400, so its shard stops there and Lambda retries it.
async fn task_change(State(state): State<AppState>, headers: HeaderMap, body: axum::body::Bytes) -> StatusCode {
    if headers.get("eventname").is_none_or(|name| name != "INSERT") {
        return StatusCode::NO_CONTENT;
    }
    task_event(State(state), body).await
}

/// Webhook input: bindery has verified the signature before this runs.
async fn github_webhook(headers: HeaderMap, body: axum::body::Bytes) -> Json<Value> {
    let event = headers.get("x-github-event").and_then(|v| v.to_str().ok()).unwrap_or("unknown").to_owned();
    Json(json!({ "received": event, "bytes": body.len() }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::Body;
    use axum::http::Request;
    use http_body_util::BodyExt;
    use tower::ServiceExt;

    async fn call(app: &Router, method: &str, uri: &str, body: &str) -> (StatusCode, String) {
        let req = Request::builder().method(method).uri(uri).header("content-type", "application/json");
        let res = app.clone().oneshot(req.body(Body::from(body.to_owned())).unwrap()).await.unwrap();
        let status = res.status();
        (status, String::from_utf8(res.into_body().collect().await.unwrap().to_bytes().to_vec()).unwrap())
    }

    /// A monitoring webhook on loopback that keeps what it is sent.
    async fn monitoring() -> (String, Arc<Mutex<Vec<Value>>>) {
        let seen: Arc<Mutex<Vec<Value>>> = Arc::default();
        let keep = seen.clone();
        let router = Router::new().route(
            "/webhooks",
            post(move |Json(body): Json<Value>| async move {
                keep.lock().unwrap().push(body);
                StatusCode::OK
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/webhooks", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, router).await });
        (url, seen)
    }

    /// The local component set, with the monitoring URL and folders of this test.
    async fn local_bindings(dir: &std::path::Path, monitoring_url: &str) -> Arc<Bindings> {
        let component = |name: &str, type_: &str, items: &[(&str, String)]| {
            let items: String = items.iter().map(|(k, v)| format!("  - name: {k}\n    value: \"{v}\"\n")).collect();
            format!(
                "apiVersion: dapr.io/v1alpha1\nkind: Component\nmetadata:\n  name: {name}\nspec:\n  type: {type_}\n  version: v1\n  metadata:\n{items}"
            )
        };
        let yaml = [
            component("http-binding", "bindings.http", &[("url", monitoring_url.to_owned())]),
            component("reports", "bindings.localstorage", &[("rootPath", dir.join("reports").display().to_string())]),
            component("task-done", "bindings.localstorage", &[("rootPath", dir.join("done").display().to_string())]),
            component(
                "notifications",
                "bindings.local.mailbox",
                &[
                    ("rootPath", dir.join("mail").display().to_string()),
                    ("emailFrom", "task-api@example.com".into()),
                    ("emailTo", "ops@example.com".into()),
                ],
            ),
        ]
        .join("---\n");
        let file = dir.join("components.yaml");
        std::fs::write(&file, yaml).unwrap();
        Arc::new(Bindings::load(&file).await.unwrap())
    }

    fn files(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
        let mut found = Vec::new();
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() { found.extend(files(&path)) } else { found.push(path) }
        }
        found
    }

    #[tokio::test]
    async fn completing_a_task_tells_the_monitoring_webhook_and_announces_it() {
        let dir = tempfile::tempdir().unwrap();
        let (url, seen) = monitoring().await;
        let app = app(local_bindings(dir.path(), &url).await);
        call(&app, "POST", "/tasks", r#"{"title":"a"}"#).await;
        let (status, body) = call(&app, "POST", "/tasks/1/complete", "").await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let event = json!({"event": "task.completed", "task": {"id": 1, "title": "a", "done": true}});
        assert_eq!(*seen.lock().unwrap(), std::slice::from_ref(&event));
        // Locally `task-done` is a folder: one file per announcement.
        let announced = files(&dir.path().join("done"));
        assert_eq!(announced.len(), 1);
        let announcement: Value = serde_json::from_slice(&std::fs::read(&announced[0]).unwrap()).unwrap();
        assert_eq!(announcement, json!({"message": event.to_string(), "subject": "Task 1 done"}));
    }

    #[tokio::test]
    async fn tasks_inserted_into_the_table_join_the_list() {
        let app = app(Arc::new(Bindings::default()));
        let change = |name: &str, body: &str| {
            let request = Request::builder().method("POST").uri("/task-changes").header("eventname", name);
            request.body(Body::from(body.to_owned())).unwrap()
        };
        let insert = change("INSERT", r#"{"key":"t-9","title":"from the table","done":false}"#);
        assert_eq!(app.clone().oneshot(insert).await.unwrap().status(), StatusCode::NO_CONTENT);
        // Other changes are acknowledged and left alone; an INSERT that is not a task is refused.
        assert_eq!(app.clone().oneshot(change("REMOVE", "{}")).await.unwrap().status(), StatusCode::NO_CONTENT);
        assert_eq!(app.clone().oneshot(change("INSERT", "{}")).await.unwrap().status(), StatusCode::BAD_REQUEST);
        assert_eq!(call(&app, "GET", "/tasks", "").await.1, r#"[{"id":1,"title":"from the table","done":false}]"#);
    }

    #[tokio::test]
    async fn a_monitoring_outage_is_a_visible_failure() {
        let dir = tempfile::tempdir().unwrap();
        let app = app(local_bindings(dir.path(), "http://127.0.0.1:9/webhooks").await);
        call(&app, "POST", "/tasks", r#"{"title":"a"}"#).await;
        let (status, body) = call(&app, "POST", "/tasks/1/complete", "").await;
        assert_eq!(status, StatusCode::BAD_GATEWAY);
        assert!(body.contains("monitoring webhook was not told"), "{body}");
    }

    #[tokio::test]
    async fn the_nightly_cleanup_writes_a_report_and_emails_it() {
        let dir = tempfile::tempdir().unwrap();
        let (url, _) = monitoring().await;
        let app = app(local_bindings(dir.path(), &url).await);
        call(&app, "POST", "/tasks", r#"{"title":"a <b>"}"#).await;
        call(&app, "POST", "/tasks", r#"{"title":"b"}"#).await;
        assert_eq!(call(&app, "POST", "/tasks/1/complete", "").await.0, StatusCode::OK);

        let (status, body) = call(&app, "POST", "/cron-binding", "").await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let answer: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(answer["removed"], 1);
        assert!(call(&app, "GET", "/tasks", "").await.1.contains("\"b\""));

        let reports = files(&dir.path().join("reports"));
        assert_eq!(reports.len(), 1);
        assert!(reports[0].ends_with(answer["report"].as_str().unwrap()));
        let report: Value = serde_json::from_slice(&std::fs::read(&reports[0]).unwrap()).unwrap();
        assert_eq!(report["removed"][0]["title"], "a <b>");

        let mail = files(&dir.path().join("mail"));
        assert_eq!(mail.len(), 1);
        let eml = String::from_utf8(std::fs::read(&mail[0]).unwrap()).unwrap();
        assert!(eml.contains("Subject: Nightly cleanup: 1 tasks removed"), "{eml}");
        assert!(eml.contains("ops@example.com") && eml.contains("a &lt;b&gt;"), "{eml}");
    }

    #[tokio::test]
    async fn task_events_refuse_what_is_not_a_task() {
        let app = app(Arc::new(Bindings::default()));
        assert_eq!(call(&app, "POST", "/task-events", r#"{"title":"x"}"#).await.0, StatusCode::NO_CONTENT);
        assert_eq!(call(&app, "POST", "/task-events", "nope").await.0, StatusCode::BAD_REQUEST);
        // Dapr's subscription probe: 405 means "subscribed".
        assert_eq!(call(&app, "OPTIONS", "/task-events", "").await.0, StatusCode::METHOD_NOT_ALLOWED);
    }
}
