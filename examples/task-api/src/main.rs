//! The Task API as an HTTP server, for bindery's functions to call over HTTP
//! (`BINDERY_APP_URL`) or `bindery run` to start. Listens on 127.0.0.1:
//! `APP_PORT` (set by `bindery run --app-port`), else `PORT`, else 8080; its
//! output bindings come from `BINDERY_COMPONENTS` (default: the example's
//! `components/local`, which needs no cloud).

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use bindery::output::Bindings;

#[tokio::main]
async fn main() -> ExitCode {
    match serve().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("task-api: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn serve() -> Result<(), Box<dyn std::error::Error>> {
    let port = ["APP_PORT", "PORT"]
        .iter()
        .find_map(|name| std::env::var(name).ok().and_then(|p| p.parse::<u16>().ok()))
        .unwrap_or(8080);
    let components = std::env::var_os("BINDERY_COMPONENTS")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("components/local"));
    let bindings = Bindings::load(&components).await?;
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
    println!("task-api listening on http://{}", listener.local_addr()?);
    axum::serve(listener, example_task_api::app(Arc::new(bindings))).await?;
    Ok(())
}
