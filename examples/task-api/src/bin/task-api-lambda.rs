//! The Task API inside bindery's functions: one binary for all three input
//! bindings (`BINDERY_BINDING` picks the schedule, the queue or the webhook,
//! by its component's type). Each event reaches the router in-process, with
//! no socket and no second process. Its output bindings come from the same
//! components as the function's.

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    let bindings = bindery::function::output_bindings("task-api-lambda").await?;
    let app = bindery::deliver::App::in_process(example_task_api::app(bindings));
    bindery::function::run_in_process("task-api-lambda", app).await
}
