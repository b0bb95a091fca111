//! `bindery-webhook`: configured by environment (see `bindery::function`); all
//! logic lives in the `bindery` crate.

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    bindery::function::webhook::run().await
}
