//! The Deliverer against both targets: an in-process router and a real HTTP
//! app on loopback.

use std::time::Duration;

use axum::Router;
use axum::body::Bytes as AxumBytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use tokio::sync::mpsc;
use tokio::time::Instant;

use super::*;

fn soon() -> Instant {
    Instant::now() + Duration::from_secs(5)
}

fn event(body: &'static str) -> BindingEvent {
    BindingEvent {
        data: Bytes::from_static(body.as_bytes()),
        metadata: vec![("messageId".into(), "m-1".into())],
        traceparent: None,
    }
}

type Seen = mpsc::UnboundedSender<(HeaderMap, AxumBytes)>;

/// An app whose `/orders` answers by what the body asks for.
fn app(seen: Seen) -> Router {
    async fn handler(State(seen): State<Seen>, headers: HeaderMap, body: AxumBytes) -> StatusCode {
        let _ = seen.send((headers, body.clone()));
        match &body[..] {
            b"fail" => StatusCode::INTERNAL_SERVER_ERROR,
            b"slow" => {
                tokio::time::sleep(Duration::from_secs(30)).await;
                StatusCode::OK
            }
            _ => StatusCode::NO_CONTENT,
        }
    }
    Router::new().route("/orders", post(handler)).route("/base/orders", post(handler)).with_state(seen)
}

async fn serve(router: Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    format!("http://{addr}")
}

#[tokio::test]
async fn in_process_router_receives_the_event() {
    let (tx, mut rx) = mpsc::unbounded_channel();
    let d = Deliverer::new(App::in_process(app(tx)), "/orders", Some("tok")).unwrap();
    d.deliver(event("{\"id\":1}"), soon()).await.unwrap();
    let (headers, body) = rx.recv().await.unwrap();
    assert_eq!(&body[..], b"{\"id\":1}");
    assert_eq!(headers["messageid"], "m-1");
    assert_eq!(headers["dapr-api-token"], "tok");
    assert_eq!(headers["content-type"], "application/json");
}

#[tokio::test]
async fn http_app_acks_2xx_and_rejects_500() {
    let (tx, mut rx) = mpsc::unbounded_channel();
    let url = serve(app(tx)).await;
    let d = Deliverer::new(App::http(&url).unwrap(), "/orders", None).unwrap();
    d.deliver(event("ok"), soon()).await.unwrap();
    let err = d.deliver(event("fail"), soon()).await.unwrap_err();
    assert_eq!(err.kind, DeliveryErrorKind::AppRejected(http::StatusCode::INTERNAL_SERVER_ERROR));
    assert_eq!(rx.recv().await.unwrap().1, "ok");
    assert!(rx.recv().await.unwrap().0.get("dapr-api-token").is_none());
}

#[tokio::test]
async fn http_app_base_path_prefixes_the_route() {
    let (tx, mut rx) = mpsc::unbounded_channel();
    let url = serve(app(tx)).await;
    let d = Deliverer::new(App::http(&format!("{url}/base/")).unwrap(), "/orders", None).unwrap();
    d.deliver(event("ok"), soon()).await.unwrap();
    assert_eq!(rx.recv().await.unwrap().1, "ok");
}

#[tokio::test]
async fn app_down_is_unreachable() {
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let d = Deliverer::new(App::http(&format!("http://127.0.0.1:{port}")).unwrap(), "/orders", None).unwrap();
    let err = d.deliver(event("ok"), soon()).await.unwrap_err();
    assert_eq!(err.kind, DeliveryErrorKind::AppUnreachable, "{err}");
    assert_eq!(err.error_type(), "Bindery.AppUnreachable");
}

#[tokio::test]
async fn slow_app_times_out_at_the_deadline() {
    let (tx, _rx) = mpsc::unbounded_channel();
    let url = serve(app(tx)).await;
    let d = Deliverer::new(App::http(&url).unwrap(), "/orders", None).unwrap();
    let started = Instant::now();
    let err = d.deliver(event("slow"), Instant::now() + Duration::from_millis(200)).await.unwrap_err();
    assert_eq!(err.kind, DeliveryErrorKind::Timeout);
    assert!(started.elapsed() < Duration::from_secs(5));
}

#[test]
fn api_token_must_be_a_header_value() {
    let (tx, _rx) = mpsc::unbounded_channel();
    assert!(Deliverer::new(App::in_process(app(tx)), "/orders", Some("bad\ntoken")).is_err());
}

/// A Python app on `$PORT` that dies (exit 7) on the first POST, unanswered.
const DYING_APP: &str = r"
import os, http.server
class H(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        os._exit(7)
http.server.HTTPServer(('127.0.0.1', int(os.environ['PORT'])), H).serve_forever()
";

async fn dying_app() -> (crate::process::AppProcess, String) {
    use crate::process::{AppCommand, AppProcess, Readiness};
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let mut app =
        AppProcess::spawn(AppCommand::argv(["python3", "-c", DYING_APP]), &[("PORT".into(), port.to_string())])
            .unwrap();
    app.wait_ready(&Readiness::Tcp(([127, 0, 0, 1], port).into()), Duration::from_secs(10)).await.unwrap();
    (app, format!("http://127.0.0.1:{port}"))
}

#[tokio::test]
async fn a_delivery_that_the_watched_app_dies_during_never_completes() {
    let (app, url) = dying_app().await;
    let mut d = Deliverer::new(App::http(&url).unwrap(), "/orders", None).unwrap();
    d.watch_app_exit(app.exit_watch());
    let outcome = tokio::time::timeout(Duration::from_secs(2), d.deliver(event("ok"), soon())).await;
    assert!(outcome.is_err(), "answered although the app died: {outcome:?}");
    assert_eq!(app.status().and_then(|s| s.code()), Some(7));
}

#[tokio::test]
async fn without_a_watched_app_its_death_is_a_failed_delivery() {
    let (_app, url) = dying_app().await;
    let d = Deliverer::new(App::http(&url).unwrap(), "/orders", None).unwrap();
    let err = d.deliver(event("ok"), soon()).await.unwrap_err();
    assert_eq!(err.kind, DeliveryErrorKind::AppFailed, "{err}");
}

#[tokio::test]
async fn a_watched_app_that_lives_on_fails_the_delivery_after_a_moment() {
    let (app, _) = dying_app().await;
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let mut d = Deliverer::new(App::http(&format!("http://127.0.0.1:{port}")).unwrap(), "/orders", None).unwrap();
    d.watch_app_exit(app.exit_watch());
    let started = Instant::now();
    let err = d.deliver(event("ok"), soon()).await.unwrap_err();
    assert_eq!(err.kind, DeliveryErrorKind::AppUnreachable, "{err}");
    assert!(started.elapsed() >= EXIT_NOTICE, "it did not wait for a possible exit");
    assert_eq!(app.status(), None);
}

#[tokio::test]
async fn the_subscription_probe_follows_daprs_rule() {
    use axum::routing::options;
    let app = Router::new()
        .route("/ok", options(|| async { StatusCode::OK }))
        .route("/no-content", options(|| async { StatusCode::NO_CONTENT }))
        .route("/post-only", post(|| async { StatusCode::OK }))
        .route("/broken", options(|| async { StatusCode::INTERNAL_SERVER_ERROR }))
        .route(
            "/slow",
            options(|| async {
                tokio::time::sleep(Duration::from_secs(30)).await;
                StatusCode::OK
            }),
        );
    let app = App::in_process(app);
    let probe = |route: &str| {
        let deliverer = Deliverer::new(app.clone(), route, Some("t")).unwrap();
        async move { deliverer.probe(Duration::from_millis(200)).await }
    };
    assert!(probe("/ok").await.unwrap());
    assert!(probe("/no-content").await.unwrap());
    // axum answers 405 for a route without OPTIONS: subscribed, as in daprd.
    assert!(probe("/post-only").await.unwrap());
    assert!(!probe("/missing").await.unwrap());
    assert!(!probe("/broken").await.unwrap());
    assert_eq!(probe("/slow").await.unwrap_err().kind, DeliveryErrorKind::Timeout);
}
