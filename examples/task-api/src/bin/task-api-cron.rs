//! The Task API inside `bindery-cron`: the schedule's event reaches the
//! router in-process, with no socket and no second process. Its output
//! bindings come from the same components as the function's.

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    let bindings = bindery::function::output_bindings("task-api-cron").await?;
    let app = bindery::deliver::App::in_process(example_task_api::app(bindings));
    bindery::function::cron::run_with(Some(app)).await
}
