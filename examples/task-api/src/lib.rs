//! The Task API of the Dapr bindings tutorial, as plain HTTP handlers.
//!
//! It knows nothing of AWS: the cron binding arrives as `POST /cron-binding`,
//! SQS messages as `POST /task-events`, webhooks as `POST /github-webhook`,
//! exactly as daprd would deliver them. bindery's functions call it either
//! in-process (`task-api-cron`) or over HTTP (`task-api`).

use std::sync::{Arc, Mutex};

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};

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

type Shared = Arc<Mutex<Store>>;

#[derive(Deserialize)]
struct NewTask {
    title: String,
}

/// The app's routes.
pub fn app() -> Router {
    Router::new()
        .route("/tasks", get(list).post(create))
        .route("/tasks/{id}/complete", post(complete))
        .route("/cron-binding", post(cleanup))
        .route("/task-events", post(task_event))
        .route("/github-webhook", post(github_webhook))
        .with_state(Shared::default())
}

fn lock(store: &Shared) -> std::sync::MutexGuard<'_, Store> {
    // A poisoned lock only means another handler panicked; the data is still usable.
    store.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

async fn list(State(store): State<Shared>) -> Json<Vec<Task>> {
    Json(lock(&store).tasks.clone())
}

async fn create(State(store): State<Shared>, Json(new): Json<NewTask>) -> (StatusCode, Json<Task>) {
    let mut s = lock(&store);
    s.next_id += 1;
    let task = Task { id: s.next_id, title: new.title, done: false };
    s.tasks.push(task.clone());
    (StatusCode::CREATED, Json(task))
}

async fn complete(State(store): State<Shared>, Path(id): Path<u64>) -> Result<Json<Task>, StatusCode> {
    let mut s = lock(&store);
    let task = s.tasks.iter_mut().find(|t| t.id == id).ok_or(StatusCode::NOT_FOUND)?;
    task.done = true;
    Ok(Json(task.clone()))
}

/// The cron binding: drop completed tasks. The body is empty; Dapr's
/// `readtimeutc` header says when the schedule fired.
async fn cleanup(State(store): State<Shared>, headers: HeaderMap) -> Json<serde_json::Value> {
    let mut s = lock(&store);
    let before = s.tasks.len();
    s.tasks.retain(|t| !t.done);
    let removed = before - s.tasks.len();
    let fired = headers.get("readtimeutc").and_then(|v| v.to_str().ok()).unwrap_or("?").to_owned();
    tracing::info!(removed, fired, "cleanup ran");
    Json(serde_json::json!({ "removed": removed, "fired": fired }))
}

/// SQS input: each message is a task to create. A message that is not a task
/// gets 400, so bindery reports it failed and SQS redelivers it (then DLQs it).
async fn task_event(State(store): State<Shared>, body: axum::body::Bytes) -> StatusCode {
    let Ok(new) = serde_json::from_slice::<NewTask>(&body) else { return StatusCode::BAD_REQUEST };
    let mut s = lock(&store);
    s.next_id += 1;
    let id = s.next_id;
    s.tasks.push(Task { id, title: new.title, done: false });
    StatusCode::NO_CONTENT
}

/// Webhook input: bindery has verified the signature before this runs.
async fn github_webhook(headers: HeaderMap, body: axum::body::Bytes) -> Json<serde_json::Value> {
    let event = headers.get("x-github-event").and_then(|v| v.to_str().ok()).unwrap_or("unknown").to_owned();
    Json(serde_json::json!({ "received": event, "bytes": body.len() }))
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

    #[tokio::test]
    async fn cleanup_removes_completed_tasks() {
        let app = app();
        call(&app, "POST", "/tasks", r#"{"title":"a"}"#).await;
        call(&app, "POST", "/tasks", r#"{"title":"b"}"#).await;
        assert_eq!(call(&app, "POST", "/tasks/1/complete", "").await.0, StatusCode::OK);
        let (status, body) = call(&app, "POST", "/cron-binding", "").await;
        assert_eq!(status, StatusCode::OK);
        assert!(body.contains("\"removed\":1"), "{body}");
        assert!(call(&app, "GET", "/tasks", "").await.1.contains("\"b\""));
    }

    #[tokio::test]
    async fn task_events_refuse_what_is_not_a_task() {
        let app = app();
        assert_eq!(call(&app, "POST", "/task-events", r#"{"title":"x"}"#).await.0, StatusCode::NO_CONTENT);
        assert_eq!(call(&app, "POST", "/task-events", "nope").await.0, StatusCode::BAD_REQUEST);
        // Dapr's subscription probe: 405 means "subscribed".
        assert_eq!(call(&app, "OPTIONS", "/task-events", "").await.0, StatusCode::METHOD_NOT_ALLOWED);
    }
}
