//! The SAM CLI itself (pinned in scripts/requirements-sam.txt), run on what
//! `bindery infra` writes, on loopback only:
//!
//! - `sam validate --lint` passes every template (its endpoint a dead
//!   loopback port: it needs no AWS);
//! - `sam build --beta-features` built the example's template (`scripts/test`
//!   ran it: it runs `cargo lambda build`, which takes minutes, once per run);
//! - `sam package` uploads what it built to a moto of the test's own, and
//!   `sam deploy` creates the stack there, every function from its zip.
//!
//! moto cannot expand `Transform: AWS::Serverless-2016-10-31`: given the SAM
//! template, `sam deploy` reports success while moto skipped every
//! `AWS::Serverless::*` resource ("No Moto CloudFormation support for
//! AWS::Serverless::Function"). So between `sam package` and `sam deploy` the
//! packaged template is translated to plain CloudFormation with the
//! aws-sam-translator the SAM CLI ships (tests/python/sam_cli.py), which is
//! what AWS CloudFormation does on its side.

use std::path::{Path, PathBuf};
use std::process::Command;

use bindery_e2e::aws::OwnMoto;
use bindery_e2e::debug_bin;
use bindery_e2e::sam::{DEAD_ENDPOINT, offline_command, run, sam, sam_build, sam_python};
use bindery_e2e::workspace;
use goblin::elf::Elf;
use goblin::elf::header::EM_X86_64;
use serde_json::Value;

/// `bindery infra --components tests/fixtures/infra --out OUT EXTRA...`.
fn fixture_template(out: &Path, extra: &[&str]) -> PathBuf {
    let components = workspace().join("tests/fixtures/infra");
    let mut command = Command::new(debug_bin("bindery"));
    command.arg("infra").arg("--components").arg(components).arg("--out").arg(out).args(extra);
    run(command.current_dir(workspace()));
    out.to_path_buf()
}

#[test]
fn every_generated_template_passes_sam_validate_lint() {
    let dir = tempfile::tempdir().unwrap();
    let code_uri = dir.path().to_str().unwrap();
    let templates = [
        workspace().join("infra/task-api/template.yaml"),
        sam_build().join("template.yaml"),
        fixture_template(&dir.path().join("arm64.yaml"), &[]),
        fixture_template(&dir.path().join("x86.yaml"), &["--arch", "x86_64"]),
        fixture_template(&dir.path().join("long.yaml"), &["--timeout", "60", "--memory", "512"]),
        fixture_template(&dir.path().join("prebuilt.yaml"), &["--prebuilt", "--code-uri", code_uri]),
        fixture_template(
            &dir.path().join("traced.yaml"),
            &["--tracing", "--log-level", "DEBUG", "--log-retention-days", "7"],
        ),
    ];
    let config = dir.path().join("sam-config");
    for template in &templates {
        let output = run(offline_command(&sam(), DEAD_ENDPOINT, &config)
            .args(["validate", "--lint", "--template"])
            .arg(template));
        let said = String::from_utf8_lossy(&output.stdout);
        assert!(said.contains("is a valid SAM Template"), "{}: {said}", template.display());
    }
}

/// Runs `sam_cli.py ARGS` with the SAM CLI's Python; its JSON output, if any.
fn sam_cli_py(args: &[&str]) -> Value {
    bindery_e2e::sam::sam_cli_py(&sam_python(), args)
}

fn sha256_hex(path: &Path) -> String {
    bindery_e2e::sam::sha256_hex(&std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display())))
}

/// A moto of the test's own with the artifacts bucket, and the endpoint to
/// give the SAM CLI: moto's CloudFormation reads the template `sam deploy`
/// uploaded from its own S3 only when the URL's host is `localhost` (with
/// 127.0.0.1: "NoSuchBucket ... when calling the CreateChangeSet operation").
fn moto_with_bucket() -> (OwnMoto, String) {
    let moto = OwnMoto::start();
    let endpoint = format!("http://localhost:{}", moto.port);
    sam_cli_py(&["create-bucket", "--endpoint", &endpoint, "--bucket", BUCKET]);
    (moto, endpoint)
}

const BUCKET: &str = "bindery-sam-artifacts";

/// The README's `sam deploy`, after `sam build`, in the folder where it ran.
fn sam_deploy(endpoint: &str, config: &Path) -> Command {
    let mut command = offline_command(&sam(), endpoint, config);
    command.current_dir(sam_build()).args(["deploy", "--stack-name", "task-api", "--s3-bucket", BUCKET]);
    command.args(["--capabilities", "CAPABILITY_IAM", "CAPABILITY_AUTO_EXPAND"]);
    command.args(["--no-confirm-changeset", "--no-fail-on-empty-changeset"]);
    command
}

#[test]
fn sam_deploy_of_the_sam_template_on_moto_creates_no_function() {
    // What the README says, and why the next test translates first: moto
    // does not expand the SAM transform and skips every AWS::Serverless::*
    // resource. The example's stream mapping, a plain resource, names its
    // function by `Ref`, which then resolves to nothing: moto refuses the
    // mapping ("Missing FunctionName") and the deploy fails. Should moto
    // learn the transform, this fails: then drop the translation and this test.
    let (_moto, endpoint) = moto_with_bucket();
    let config = tempfile::tempdir().unwrap();
    let output = sam_deploy(&endpoint, config.path()).output().unwrap();
    let text = format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    // The change set held the SAM function; moto then created none, so the
    // mapping's `Ref` to it was empty. (moto cannot list the failed stack's
    // resources: that call answers an error page.)
    assert!(text.contains("AWS::Serverless::Funct"), "{text}");
    assert!(!output.status.success() && text.contains("Missing FunctionName"), "{text}");
}

/// `sam package` (of `template`, else of what `sam build` built), the
/// translation, and `sam deploy` of it, on a moto of its own; what the stack
/// holds then.
fn package_translate_deploy(template: Option<&Path>) -> Value {
    let (_moto, endpoint) = moto_with_bucket();
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("sam-config");
    let packaged = dir.path().join("packaged.yaml");
    let mut package = offline_command(&sam(), &endpoint, &config);
    package.current_dir(sam_build()).args(["package", "--s3-bucket", BUCKET]);
    if let Some(template) = template {
        package.arg("--template-file").arg(template);
    }
    run(package.arg("--output-template-file").arg(&packaged));
    let translated = dir.path().join("translated.json");
    sam_cli_py(&["translate", packaged.to_str().unwrap(), translated.to_str().unwrap()]);
    run(sam_deploy(&endpoint, &config).arg("--template-file").arg(&translated));
    sam_cli_py(&["read-back", "--endpoint", &endpoint, "--stack", "task-api", "--bucket", BUCKET])
}

/// The example's four functions, each created from an uploaded zip whose
/// `bootstrap` is one of `bootstraps` (SHA-256 hex), and its components layer.
/// Returns each function's zip entries. (moto's CloudFormation ignores
/// `Architectures`: every function is x86_64 there.)
fn check_example(created: &Value, bootstraps: &[String]) -> Vec<Vec<String>> {
    assert_eq!(created["stack_status"], "CREATE_COMPLETE");
    let functions = created["functions"].as_object().unwrap();
    let mut ids: Vec<&String> = functions.keys().collect();
    ids.sort();
    assert_eq!(ids, ["CronBindingFunction", "GithubWebhookFunction", "TaskChangesFunction", "TaskEventsFunction"]);
    let mut all_entries = Vec::new();
    for (id, binding) in [
        ("CronBindingFunction", "cron-binding"),
        ("GithubWebhookFunction", "github-webhook"),
        ("TaskChangesFunction", "task-changes"),
        ("TaskEventsFunction", "task-events"),
    ] {
        let function = &functions[id];
        assert_eq!(function["environment"]["BINDERY_BINDING"], binding, "{id}");
        assert_eq!(function["runtime"], "provided.al2023", "{id}");
        assert!(function["code_size"].as_u64().unwrap() > 0, "{id}: {function}");
        // The code Lambda holds is a zip `sam package` uploaded, holding the bootstrap built.
        let sha = function["code_sha256"].as_str().unwrap();
        let zip = &created["artifacts"][sha];
        assert!(zip.is_object(), "{id}: no uploaded zip has SHA-256 {sha}: {}", created["artifacts"]);
        let entries = zip["entries"].as_object().unwrap();
        let bootstrap = entries["bootstrap"].as_str().unwrap_or_else(|| panic!("{id}: no bootstrap in {zip}"));
        assert!(bootstraps.iter().any(|b| b == bootstrap), "{id}: its bootstrap is not the one built");
        all_entries.push(entries.keys().cloned().collect());
    }
    // The components layer: every component of the example, uploaded and created.
    let layer =
        created["artifacts"].as_object().unwrap().values().find(|zip| zip["entries"].get("bootstrap").is_none());
    let layer = layer.unwrap_or_else(|| panic!("no components layer zip: {}", created["artifacts"]));
    let components = workspace().join("examples/task-api/components/aws");
    for entry in std::fs::read_dir(&components).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_str().unwrap();
        assert_eq!(layer["entries"][name], sha256_hex(&path), "{name} in the components layer");
    }
    assert!(created["layers"].as_object().unwrap().keys().any(|name| name.contains("ComponentsLayer")), "{created}");
    all_entries
}

#[test]
fn sam_package_and_deploy_create_the_built_example_on_moto() {
    let built = sam_build().join(".aws-sam/build");
    let bootstraps = built_bootstraps(&built);
    assert!(!bootstraps.is_empty(), "sam build left no bootstrap in {}", built.display());
    for dir in std::fs::read_dir(&built).unwrap().map(|entry| entry.unwrap().path()) {
        let bootstrap = dir.join("bootstrap");
        if bootstrap.is_file() {
            // ELF, 64-bit, little-endian, x86-64: what --arch x86_64 asked for.
            let bytes = std::fs::read(&bootstrap).unwrap();
            let elf = Elf::parse(&bytes).unwrap_or_else(|e| panic!("{} is no ELF: {e}", bootstrap.display()));
            assert!(elf.is_64 && elf.little_endian, "{} is no little-endian ELF64", bootstrap.display());
            assert_eq!(elf.header.e_machine, EM_X86_64, "{} is not x86-64", bootstrap.display());
        }
    }
    let created = package_translate_deploy(None);
    for entries in check_example(&created, &bootstraps) {
        assert_eq!(entries, ["bootstrap"], "sam build's artifact holds the bootstrap alone");
    }
}

#[test]
fn sam_package_and_deploy_create_the_prebuilt_example_on_moto() {
    // infra/task-api/template.yaml (--prebuilt, arm64 as committed), each
    // function zipped from target/lambda/task-api-lambda/, where
    // `cargo lambda build` left the binary (x86-64 here: moto runs nothing).
    let binary = workspace().join("target/lambda/task-api-lambda/bootstrap");
    let created = package_translate_deploy(Some(&workspace().join("infra/task-api/template.yaml")));
    for entries in check_example(&created, &[sha256_hex(&binary)]) {
        // All of the folder: the zip `cargo lambda deploy` leaves there too, once it ran.
        let expected = |entry: &String| entry == "bootstrap" || entry == "bootstrap.zip";
        assert!(entries.iter().all(expected), "{entries:?}");
    }
}

/// The SHA-256 of every `bootstrap` `sam build` left (one per CodeUri:
/// functions built from the same one share it).
fn built_bootstraps(built: &Path) -> Vec<String> {
    let dirs = std::fs::read_dir(built).unwrap().map(|entry| entry.unwrap().path());
    dirs.map(|dir| dir.join("bootstrap")).filter(|path| path.is_file()).map(|path| sha256_hex(&path)).collect()
}
