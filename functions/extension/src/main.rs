//! `bindery-extension`: configured by environment (see
//! `bindery::function::extension`); all logic lives in the `bindery` crate.

#[tokio::main]
async fn main() -> Result<(), lambda_extension::Error> {
    bindery::function::extension::run().await
}
