//! The server side of the output-API load benchmark (`scripts/bench-api`):
//! `floor PORT` serves a minimal axum app answering 204 to every POST (the
//! floor), `api PORT` serves bindery's HTTP output API with one no-op
//! binding, `noop`, which answers nothing (204, like daprd's empty response).
//! Both on the same tokio runtime settings, so only the API's work differs.

use std::sync::Arc;

use axum::Router;
use axum::http::StatusCode;
use axum::routing::post;
use bindery::api::{ApiSettings, OutputApi};
use bindery::output::{Bindings, BoxFuture, InvokeRequest, InvokeResult, OutputBinding};

/// Accepts `create` and does nothing.
struct Noop;

impl OutputBinding for Noop {
    fn operations(&self) -> &'static [&'static str] {
        &["create"]
    }
    fn is_idempotent(&self, _: &InvokeRequest) -> bool {
        true
    }
    fn invoke(&self, _: InvokeRequest) -> BoxFuture<'_, InvokeResult> {
        Box::pin(async { Ok(None) })
    }
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let (Some(mode), Some(port)) = (args.get(1), args.get(2).and_then(|p| p.parse::<u16>().ok())) else {
        eprintln!("usage: api_load_server floor|api PORT");
        std::process::exit(2);
    };
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
    let router = match mode.as_str() {
        "floor" => Router::new().route("/v1.0/bindings/{name}", post(|| async { StatusCode::NO_CONTENT })),
        "api" => {
            let mut bindings = Bindings::default();
            bindings.insert("noop", "bench.noop", Box::new(Noop));
            OutputApi::new(Arc::new(bindings), ApiSettings::default()).http_router()
        }
        other => {
            eprintln!("unknown mode {other:?}: floor or api");
            std::process::exit(2);
        }
    };
    axum::serve(listener, router).await
}
