//! The zips `cargo lambda build --x86-64 --output-format zip` made (scripts/test
//! builds them; `BINDERY_TEST_LAMBDA_DIR` names their folder), checked as
//! Lambda's `provided.al2023` runtime would take them: the one entry it runs
//! (`bootstrap`, or `extensions/<name>` for an extension), an x86-64 ELF
//! executable needing no glibc newer than al2023's 2.34, and running under
//! cargo-lambda's Runtime API emulator.

use std::collections::BTreeSet;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::Duration;

use bindery_e2e::cargo_lambda::{LambdaWatch, lambda_zip};
use bindery_e2e::{FunctionProcess, RecordingApp, unused_port};
use goblin::elf::Elf;
use goblin::elf::header::{EM_X86_64, ET_DYN, ET_EXEC};
use serde_json::{Value, json};

use crate::common::{ComponentsDir, component, cron_component, http_get, http_post, sqs_component, value};

/// Amazon Linux 2023's glibc, the newest `GLIBC_x.y` a binary for
/// `provided.al2023` may need: AL2023's core toolchain is glibc 2.34
/// (docs.aws.amazon.com/linux/al2023/ug/core-glibc.html), and
/// `provided.al2023` is the AL2023 minimal image.
const AL2023_GLIBC: (u32, u32) = (2, 34);

const FUNCTIONS: [&str; 7] = [
    "bindery-cron",
    "bindery-sqs",
    "bindery-kinesis",
    "bindery-dynamodb-streams",
    "bindery-webhook",
    "bindery-s3-events",
    "bindery-sns",
];
const EXTENSION: &str = "bindery-extension";

/// The names in `zip`, and the bytes and Unix mode of `entry`.
fn read_zip(zip: &Path, entry: &str) -> (Vec<String>, Vec<u8>, Option<u32>) {
    let file = std::fs::File::open(zip).unwrap_or_else(|e| panic!("{}: {e}", zip.display()));
    let mut archive = zip::ZipArchive::new(file).unwrap_or_else(|e| panic!("{} is not a zip: {e}", zip.display()));
    let names: Vec<String> = archive
        .file_names()
        .map(|name| name.unwrap_or_else(|e| panic!("{}: an entry's name: {e}", zip.display())).into_owned())
        .collect();
    let mut file =
        archive.by_name(entry).unwrap_or_else(|e| panic!("{}: no {entry} ({e}); it holds {names:?}", zip.display()));
    let mode = file.unix_mode();
    let mut bytes = Vec::new();
    file.read_to_end(&mut bytes).unwrap();
    (names, bytes, mode)
}

/// Every `GLIBC_x.y` version the ELF's symbols need, from its version-needed table.
fn glibc_versions(elf: &Elf<'_>) -> BTreeSet<(u32, u32)> {
    let mut versions = BTreeSet::new();
    if let Some(verneed) = &elf.verneed {
        for need in verneed.iter() {
            for aux in need.iter() {
                let name = elf.dynstrtab.get_at(aux.vna_name).unwrap_or_default();
                if let Some(version) = name.strip_prefix("GLIBC_") {
                    let mut parts = version.split('.').map(|p| p.parse::<u32>().unwrap_or(0));
                    versions.insert((parts.next().unwrap_or(0), parts.next().unwrap_or(0)));
                }
            }
        }
    }
    versions
}

/// Checks `entry` of `zip` is the one file, executable, and an x86-64 ELF
/// that al2023's glibc can run; returns its bytes.
fn check_entry(zip: &Path, entry: &str) -> Vec<u8> {
    let (names, bytes, mode) = read_zip(zip, entry);
    let files: Vec<&String> = names.iter().filter(|n| !n.ends_with('/')).collect();
    assert_eq!(files, [entry], "{}: Lambda runs {entry}, and it is the only file", zip.display());
    assert!(mode.is_some_and(|m| m & 0o111 != 0), "{}: {entry} is not executable (mode {mode:?})", zip.display());
    let elf = Elf::parse(&bytes).unwrap_or_else(|e| panic!("{}: {entry} is not an ELF: {e}", zip.display()));
    assert_eq!(elf.header.e_machine, EM_X86_64, "{}: {entry} is not x86-64", zip.display());
    assert!(elf.is_64, "{}: {entry} is not 64-bit", zip.display());
    assert!(matches!(elf.header.e_type, ET_EXEC | ET_DYN), "{}: {entry} is not an executable", zip.display());
    let versions = glibc_versions(&elf);
    assert!(!versions.is_empty(), "{}: {entry} names no GLIBC version: is it linked against glibc?", zip.display());
    let newest = versions.last().copied().unwrap_or_default();
    assert!(
        newest <= AL2023_GLIBC,
        "{}: {entry} needs GLIBC_{}.{}, newer than provided.al2023's {}.{}",
        zip.display(),
        newest.0,
        newest.1,
        AL2023_GLIBC.0,
        AL2023_GLIBC.1
    );
    bytes
}

/// `bytes` written as an executable file `name` in `dir`, as Lambda unpacks it.
fn unpack(dir: &ComponentsDir, name: &str, bytes: &[u8]) -> PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let path = dir.path().join(name);
    std::fs::write(&path, bytes).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    path
}

#[test]
fn each_function_zip_holds_an_al2023_bootstrap() {
    for function in FUNCTIONS {
        check_entry(&lambda_zip(function, false), "bootstrap");
    }
}

/// The zips are what ships by default: no OTLP exporter, which is opt-in
/// (`--features otlp`) and would take each function over 4 MB. Its code
/// names its crates (`opentelemetry-otlp-0.33.1/src/...`, in panic
/// locations); the default build names none.
#[test]
fn the_function_zips_link_no_trace_exporter_unless_built_with_it() {
    for function in FUNCTIONS {
        let (_, bytes, _) = read_zip(&lambda_zip(function, false), "bootstrap");
        let named = bytes.windows(b"opentelemetry".len()).any(|w| w == b"opentelemetry");
        assert!(!named, "{function}: its bootstrap links OpenTelemetry");
    }
}

#[test]
fn the_extension_zip_holds_an_al2023_extension() {
    check_entry(&lambda_zip(EXTENSION, true), &format!("extensions/{EXTENSION}"));
}

/// Each zip's `bootstrap` answers an invocation from cargo-lambda's emulator.
#[tokio::test]
async fn each_function_zip_runs_under_the_runtime_api_emulator() {
    let app = RecordingApp::start().await;
    let url = app.url();
    let records = |id: &str| {
        json!({"Records": [{"messageId": id, "receiptHandle": "AQEB", "body": "{}", "attributes": {},
            "messageAttributes": {}, "eventSource": "aws:sqs", "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:q",
            "awsRegion": "us-east-1"}]})
    };
    let webhook = json!({"version": "2.0", "routeKey": "POST /hook", "rawPath": "/hook", "rawQueryString": "",
        "headers": {"content-type": "application/json"}, "body": "{}", "isBase64Encoded": false,
        "requestContext": {"accountId": "123456789012", "apiId": "api", "domainName": "api.example.com",
            "domainPrefix": "api", "requestId": "r-1", "routeKey": "POST /hook", "stage": "$default", "time": "",
            "timeEpoch": 0, "http": {"method": "POST", "path": "/hook", "protocol": "HTTP/1.1",
            "sourceIp": "192.0.2.1", "userAgent": "test"}}});
    let s3_items = [value("direction", "input"), value("bucket", "example-bucket")];
    let s3_event: Value = serde_json::from_str(
        &std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/fixtures/events/s3-put.json"))
            .unwrap(),
    )
    .unwrap();
    let sns_items = [value("direction", "input"), value("topicArn", "arn:aws:sns:us-east-1:123456789012:sns-lambda")];
    let sns_event: Value = serde_json::from_str(
        &std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../shared/fixtures/events/sns-notification.json"
        ))
        .unwrap(),
    )
    .unwrap();
    let fixture = |name: &str| -> Value {
        let path = format!("{}/../shared/fixtures/events/{name}", env!("CARGO_MANIFEST_DIR"));
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
    };
    let kinesis_items = [value("direction", "input"), value("streamName", "lambda-stream")];
    let dynamodb_items = [value("direction", "input"), value("table", "TestTable")];
    let no_failures = json!({"batchItemFailures": []});
    let cases: [(&str, &str, String, Value, Value); 7] = [
        ("bindery-cron", "tick", cron_component("tick", "@daily", &[]), json!({}), Value::Null),
        ("bindery-sqs", "q", sqs_component("q"), records("m-1"), json!({"batchItemFailures": []})),
        (
            "bindery-webhook",
            "hook",
            component("hook", "bindings.http", &[value("direction", "input"), value("signatureScheme", "none")]),
            webhook,
            json!(200),
        ),
        ("bindery-s3-events", "uploads", component("uploads", "bindings.aws.s3", &s3_items), s3_event, Value::Null),
        ("bindery-sns", "notices", component("notices", "bindings.aws.sns", &sns_items), sns_event, Value::Null),
        (
            "bindery-kinesis",
            "clicks",
            component("clicks", "bindings.aws.kinesis", &kinesis_items),
            fixture("kinesis.json"),
            no_failures.clone(),
        ),
        (
            "bindery-dynamodb-streams",
            "changes",
            component("changes", "bindings.aws.dynamodb", &dynamodb_items),
            fixture("dynamodb.json"),
            no_failures,
        ),
    ];
    for (function, binding, yaml, event, expected) in cases {
        let dir = ComponentsDir::with(&format!("{binding}.yaml"), &yaml);
        let bootstrap = unpack(&dir, "bootstrap", &check_entry(&lambda_zip(function, false), "bootstrap"));
        let event_file = dir.path().join("event.json");
        std::fs::write(&event_file, event.to_string()).unwrap();
        let watch = LambdaWatch::start().await;
        let components = dir.path_str();
        let env = [
            ("BINDERY_COMPONENTS", components.as_str()),
            ("BINDERY_BINDING", binding),
            ("BINDERY_APP_URL", url.as_str()),
        ];
        let running: FunctionProcess = watch.spawn(&bootstrap, &env);
        let invoked = watch.invoke(&event_file).await;
        assert!(
            invoked.0.status.success(),
            "{function}: {}\n{}\n--- function:\n{}",
            invoked.stdout(),
            invoked.stderr(),
            running.logs()
        );
        let response = invoked.response();
        let answer = if function == "bindery-webhook" { response["statusCode"].clone() } else { response };
        assert_eq!(answer, expected, "{function}");
        let last = app.requests().last().cloned().expect("the app got the event");
        assert_eq!(last.path, format!("/{binding}"), "{function}");
    }
}

/// The extension's zip, unpacked, registers with cargo-lambda's emulator
/// and serves the Dapr output API.
#[tokio::test]
async fn the_extension_zip_runs_under_the_runtime_api_emulator() {
    let dir = ComponentsDir::new();
    let files = dir.path().join("files");
    let yaml = component("files", "bindings.localstorage", &[value("rootPath", &files.display().to_string())]);
    dir.write("files.yaml", &yaml);
    let entry = format!("extensions/{EXTENSION}");
    let extension = unpack(&dir, EXTENSION, &check_entry(&lambda_zip(EXTENSION, true), &entry));
    let watch = LambdaWatch::start().await;
    let (http_port, grpc_port) = (unused_port().to_string(), unused_port().to_string());
    let components = dir.path_str();
    let env = [
        ("BINDERY_COMPONENTS", components.as_str()),
        ("DAPR_HTTP_PORT", http_port.as_str()),
        ("DAPR_GRPC_PORT", grpc_port.as_str()),
    ];
    let running = watch.spawn(&extension, &env);
    let health = format!("http://127.0.0.1:{http_port}/v1.0/healthz");
    let mut status = 0;
    for _ in 0..200 {
        status = http_get(&health).await.0;
        if status == 204 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(status, 204, "{}\n--- emulator:\n{}", running.logs(), watch.logs());
    let url = format!("http://127.0.0.1:{http_port}/v1.0/bindings/files");
    let body = r#"{"operation":"create","data":"from the zip","metadata":{"fileName":"z.txt"}}"#;
    let (status, text) = http_post(&url, &[("content-type", "application/json")], body).await;
    assert!((200..300).contains(&status), "{status} {text}\n{}", running.logs());
    assert_eq!(std::fs::read(files.join("z.txt")).unwrap(), b"from the zip");
}
