//! `cargo lambda deploy`, the README's commands for one function alone and
//! for the extension's layer, run for real against a moto of the test's own
//! (`--endpoint-url`), on what `scripts/test` built with `cargo lambda build`:
//! the example's binary, and the extension's zip.
//!
//! cargo lambda creates the function's role and attaches AWS's managed
//! `AWSLambdaBasicExecutionRole` to it, which moto only knows with
//! `MOTO_IAM_LOAD_MANAGED_POLICIES=true` (without it: "failed to attach
//! policy AWSLambdaBasicExecutionRole to function role ... NoSuchEntity").

use base64::Engine;
use bindery_e2e::aws::{OwnMoto, REGION, moto_python};
use bindery_e2e::cargo_lambda::cargo_lambda;
use bindery_e2e::sam::{offline_command, run, sha256_hex};
use bindery_e2e::workspace;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

/// `tests/python/sam_cli.py ARGS` with moto's Python: its JSON output.
fn sam_cli_py(args: &[&str]) -> Value {
    bindery_e2e::sam::sam_cli_py(&moto_python(), args)
}

#[test]
fn cargo_lambda_deploy_creates_the_function_with_the_readme_environment() {
    let moto = OwnMoto::start_with_env(&[("MOTO_IAM_LOAD_MANAGED_POLICIES", "true")]);
    let config = tempfile::tempdir().unwrap();
    // The README's command, told where and in which region.
    run(offline_command(&cargo_lambda(), &moto.endpoint, config.path())
        .current_dir(workspace())
        .args(["lambda", "deploy", "--endpoint-url", &moto.endpoint, "--region", REGION])
        .args(["--binary-name", "task-api-lambda", "--include", "components:examples/task-api/components/aws"])
        .args(["--env-var", "BINDERY_BINDING=cron-binding", "task-api-nightly"]));

    // cargo lambda leaves the zip it uploaded beside the binary.
    let built = workspace().join("target/lambda/task-api-lambda");
    let zip = built.join("bootstrap.zip");
    let zip = zip.to_str().unwrap();
    let function = sam_cli_py(&["function", "--endpoint", &moto.endpoint, "--name", "task-api-nightly", "--zip", zip]);
    assert_eq!(function["Environment"]["Variables"], json!({"BINDERY_BINDING": "cron-binding"}));
    assert_eq!(
        (function["Runtime"].as_str(), function["Handler"].as_str()),
        (Some("provided.al2023"), Some("bootstrap"))
    );
    assert_eq!(function["Architectures"], json!(["x86_64"]), "the architecture of the binary built here");

    // Lambda holds that zip: the binary as `bootstrap`, the example's components under components/.
    let zip = &function["zip"];
    assert_eq!((&function["CodeSha256"], &function["CodeSize"]), (&zip["sha256"], &zip["size"]));
    let binary = std::fs::read(built.join("bootstrap")).unwrap();
    let mut expected = json!({"bootstrap": sha256_hex(&binary)});
    for entry in std::fs::read_dir(workspace().join("examples/task-api/components/aws")).unwrap() {
        let path = entry.unwrap().path();
        let name = format!("components/{}", path.file_name().unwrap().to_str().unwrap());
        expected[name] = json!(sha256_hex(&std::fs::read(&path).unwrap()));
    }
    assert_eq!(zip["entries"], expected);
}

#[test]
fn cargo_lambda_deploy_publishes_the_extension_zip_as_its_layer() {
    let moto = OwnMoto::start();
    let config = tempfile::tempdir().unwrap();
    run(offline_command(&cargo_lambda(), &moto.endpoint, config.path())
        .current_dir(workspace())
        .args(["lambda", "deploy", "--endpoint-url", &moto.endpoint, "--region", REGION])
        .args(["--extension", "--binary-name", "bindery-extension"]));

    let layer = sam_cli_py(&["layer", "--endpoint", &moto.endpoint, "--name", "bindery-extension"]);
    // The zip `cargo lambda build --extension --output-format zip` left, as it is.
    let zip = std::fs::read(workspace().join("target/lambda/extensions/bindery-extension.zip")).unwrap();
    let sha = base64::engine::general_purpose::STANDARD.encode(Sha256::digest(&zip));
    assert_eq!((&layer["Content"]["CodeSha256"], &layer["Content"]["CodeSize"]), (&json!(sha), &json!(zip.len())));
    assert_eq!(layer["CompatibleArchitectures"], json!(["x86_64"]), "the architecture of the binary built here");
    let runtimes = layer["CompatibleRuntimes"].as_array().unwrap();
    assert!(runtimes.contains(&json!("provided.al2023")), "{layer}");
}
