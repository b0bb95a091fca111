//! The Task API as an HTTP server, for bindery's functions to call over HTTP
//! (`BINDERY_APP_URL`). Listens on 127.0.0.1:`PORT` (default 8080).

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let port = std::env::var("PORT").ok().and_then(|p| p.parse::<u16>().ok()).unwrap_or(8080);
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
    println!("task-api listening on http://{}", listener.local_addr()?);
    axum::serve(listener, example_task_api::app()).await
}
