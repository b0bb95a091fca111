//! `bindery-dynamodb-streams`: configured by environment (see `bindery::function`); all
//! logic lives in the `bindery` crate.
//!
//! One thread: a function handles one invocation at a time and has at most
//! one vCPU below 1,769 MB; a single-threaded runtime starts faster, wakes
//! nothing across threads and keeps one allocator arena.

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    bindery::function::dynamodb_streams::run().await
}
