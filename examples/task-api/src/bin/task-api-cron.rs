//! The Task API inside `bindery-cron`: the schedule's event reaches the
//! router in-process, with no socket and no second process.

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    let app = bindery::deliver::App::in_process(example_task_api::app());
    bindery::function::cron::run_with(Some(app)).await
}
