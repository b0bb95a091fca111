//! `bindery infra` end to end: the real CLI writes the templates; cfn-lint
//! passes them with no error and no warning; aws-sam-translator turns them
//! into plain CloudFormation offline, and moto creates the stacks, whose
//! functions, event source mappings, queues and IAM policies are read back.
//! moto skips `AWS::Scheduler::Schedule`, `AWS::ApiGatewayV2::*` and
//! `AWS::Lambda::EventInvokeConfig`, and does not attach layers: those are
//! checked in the translated template (tests/python/sam_deploy.py).
//!
//! Each deployment gets a moto server of its own, from the same venv: once
//! moto holds Lambda functions, its `data.json` (which the SES tests read)
//! needs Docker, which is not here.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use bindery_e2e::aws::{Emulator, EmulatorKind, OwnMoto, moto_python};
use bindery_e2e::{debug_bin, release_bin, workspace};
use serde_json::{Value, json};

const REGENERATE: &str = "cargo run -p bindery-cli -- infra --components examples/task-api/components/aws \
                          --out infra/task-api/template.yaml --binary task-api-lambda --prebuilt";

/// cfn-lint and aws-sam-translator live in moto's venv.
fn infra_python() -> PathBuf {
    moto_python()
}

fn text(output: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr))
}

/// `bindery infra ARGS` in `dir`: the template (stdout) and the notes (stderr).
fn bindery_infra(dir: &Path, args: &[&str]) -> (String, String) {
    let output = Command::new(debug_bin("bindery")).arg("infra").args(args).current_dir(dir).output().unwrap();
    assert!(output.status.success(), "bindery infra {args:?} failed: {}", text(&output));
    (String::from_utf8(output.stdout).unwrap(), String::from_utf8(output.stderr).unwrap())
}

/// The fixture components (tests/fixtures/infra): FIFO and windowed queues, a
/// zoned schedule, a webhook secret, every output type and both AWS stores.
fn fixture_template(dir: &Path, extra: &[&str]) -> PathBuf {
    let out = dir.join("template.yaml");
    let components = workspace().join("tests/fixtures/infra");
    let mut args = vec!["--components", components.to_str().unwrap(), "--out", out.to_str().unwrap()];
    args.extend_from_slice(extra);
    let (_, notes) = bindery_infra(workspace(), &args);
    assert!(notes.contains("note: nightly:") && notes.contains("Europe/Berlin"), "{notes}");
    out
}

#[test]
fn the_example_template_is_in_sync_with_its_components() {
    let dir = workspace().join("infra/task-api");
    let args = [
        "--components",
        "../../examples/task-api/components/aws",
        "--code-uri",
        "../..",
        "--binary",
        "task-api-lambda",
        "--prebuilt",
    ];
    let (generated, _) = bindery_infra(&dir, &args);
    let committed = std::fs::read_to_string(dir.join("template.yaml")).unwrap();
    assert!(generated == committed, "infra/task-api/template.yaml is out of date; regenerate it with `{REGENERATE}`");
}

#[test]
fn unconvertible_components_are_refused_by_the_cli_naming_file_component_and_field() {
    // The local components fire every 10 s, which EventBridge cannot.
    let output = Command::new(debug_bin("bindery"))
        .args(["infra", "--components", "examples/task-api/components/local"])
        .current_dir(workspace())
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    assert!(output.stdout.is_empty(), "no template is written");
    let message = text(&output);
    for part in ["cron-binding.yaml", "\"cron-binding\"", "\"schedule\"", "sub-minute", "use @every 1m or longer"] {
        assert!(message.contains(part), "{message:?} should mention {part:?}");
    }
}

#[test]
fn every_generated_template_passes_cfn_lint_without_a_warning() {
    let dir = tempfile::tempdir().unwrap();
    let fixture = fixture_template(dir.path(), &[]);
    let x86 = dir.path().join("x86.yaml");
    let long = dir.path().join("long.yaml");
    let traced = dir.path().join("traced.yaml");
    let components = workspace().join("tests/fixtures/infra");
    let options: [(&PathBuf, &[&str]); 3] = [
        (&x86, &["--arch", "x86_64"]),
        (&long, &["--timeout", "60"]),
        (&traced, &["--tracing", "--log-level", "DEBUG", "--log-retention-days", "7"]),
    ];
    for (out, extra) in options {
        let mut args = vec!["--components", components.to_str().unwrap(), "--out", out.to_str().unwrap()];
        args.extend_from_slice(extra);
        bindery_infra(workspace(), &args);
    }
    let example = workspace().join("infra/task-api/template.yaml");
    let cfn_lint = infra_python().with_file_name("cfn-lint");
    let output = Command::new(cfn_lint)
        .args(["--format", "parseable", "--"])
        .args([&example, &fixture, &x86, &long, &traced])
        .output()
        .unwrap();
    assert!(output.status.success() && output.stdout.is_empty(), "cfn-lint: {}", text(&output));
}

/// Packages, translates and deploys `template` on a moto of its own; returns
/// what was created, the translated template and the moto holding the
/// stack (`bindery`). Every function runs
/// `bootstrap` (what `sam build` would have built) when given, else the
/// `bootstrap` in its own CodeUri (a `--prebuilt` template).
fn deploy(template: &Path, parameters: &[&str], bootstrap: Option<&Path>) -> (Value, Value, OwnMoto) {
    let moto = OwnMoto::start();
    let out = tempfile::tempdir().unwrap();
    let stack = "bindery";
    let mut command = Command::new(infra_python());
    command
        .arg(workspace().join("tests/python/sam_deploy.py"))
        .arg(template)
        .args(["--endpoint", &moto.endpoint, "--stack", stack])
        .arg("--out")
        .arg(out.path())
        .env_clear()
        .envs(std::env::var_os("PATH").map(|p| ("PATH", p)));
    if let Some(bootstrap) = bootstrap {
        command.arg("--bootstrap").arg(bootstrap);
    }
    for parameter in parameters {
        command.args(["--parameter", parameter]);
    }
    let output = command.output().unwrap();
    assert!(output.status.success(), "sam_deploy.py: {}", text(&output));
    let created: Value = serde_json::from_slice(&output.stdout).unwrap();
    let translated: Value =
        serde_json::from_str(&std::fs::read_to_string(out.path().join("translated.json")).unwrap()).unwrap();
    (created, translated, moto)
}

/// `CronBinding` → `cron-binding`.
fn id_to_binding(id: &str) -> String {
    id.chars().enumerate().fold(String::new(), |mut out, (i, c)| {
        if c.is_uppercase() && i > 0 {
            out.push('-');
        }
        out.push(c.to_ascii_lowercase());
        out
    })
}

/// The translated resource of `type_` whose logical id starts with `prefix`.
fn translated_resource<'t>(translated: &'t Value, type_: &str, prefix: &str) -> &'t Value {
    let resources = translated["Resources"].as_object().unwrap();
    let found = resources.iter().find(|(id, r)| id.starts_with(prefix) && r["Type"] == type_);
    found
        .map(|(_, r)| r)
        .unwrap_or_else(|| panic!("no {type_} {prefix}* in {:?}", resources.keys().collect::<Vec<_>>()))
}

/// Every inline statement of a role, flattened.
fn statements(role: &Value) -> Vec<Value> {
    let inline = role["inline"].as_object().unwrap();
    inline.values().flat_map(|doc| doc["Statement"].as_array().cloned().unwrap_or_default()).collect()
}

#[test]
fn the_example_deploys_with_its_triggers_queues_and_policies() {
    let template = workspace().join("infra/task-api/template.yaml");
    let (created, translated, moto) = deploy(&template, &[], Some(&release_bin("bindery-sqs")));

    // A function per input binding, the Task API's binary in each, configured by environment.
    let functions = created["functions"].as_object().unwrap();
    let mut ids: Vec<&String> = functions.keys().collect();
    ids.sort();
    assert_eq!(ids, ["CronBindingFunction", "GithubWebhookFunction", "TaskChangesFunction", "TaskEventsFunction"]);
    for (id, binding) in [
        ("CronBindingFunction", "cron-binding"),
        ("GithubWebhookFunction", "github-webhook"),
        ("TaskChangesFunction", "task-changes"),
        ("TaskEventsFunction", "task-events"),
    ] {
        let f = &functions[id];
        assert_eq!(
            (f["runtime"].as_str(), f["handler"].as_str(), f["timeout"].as_u64()),
            (Some("provided.al2023"), Some("bootstrap"), Some(30))
        );
        let env = &f["environment"];
        assert_eq!(env["BINDERY_BINDING"], binding, "{id}");
        assert_eq!(env["BINDERY_COMPONENTS"], "/opt", "{id}");
        // No secret's value, nor another binding's secret: the webhook's
        // function alone gets its secret's name, read at init.
        assert!(env.get("GITHUB_WEBHOOK_SECRET").is_none(), "{id}: {env}");
        let ids = env
            .get("BINDERY_SECRET_IDS")
            .and_then(Value::as_str)
            .map(|ids| serde_json::from_str::<Value>(ids).unwrap());
        let expected = (binding == "github-webhook").then(|| json!({"GITHUB_WEBHOOK_SECRET": "GITHUB_WEBHOOK_SECRET"}));
        assert_eq!(ids, expected, "{id}");
        assert!(env.get("BINDERY_APP_URL").is_none(), "in-process: no app URL ({id})");
    }

    // Each function logs JSON at INFO into a log group of its own, kept 30 days.
    let log_groups = &created["log_groups"];
    for id in ["CronBinding", "GithubWebhook", "TaskChanges", "TaskEvents"] {
        let group = &log_groups[format!("{id}LogGroup")];
        assert_eq!(group["retention"], 30, "{id}: {log_groups}");
        let name = group["name"].as_str().unwrap_or_else(|| panic!("{id}: no log group in {log_groups}"));
        assert!(name.ends_with(&format!("/{}", id_to_binding(id))), "{id}: {name}");
        // moto keeps no LoggingConfig: what CloudFormation was given, with
        // the Globals' format and level merged in by SAM.
        let function = &translated["Resources"][format!("{id}Function")]["Properties"];
        let logging = &function["LoggingConfig"];
        let expected =
            json!({"LogFormat": "JSON", "ApplicationLogLevel": "INFO", "LogGroup": {"Ref": format!("{id}LogGroup")}});
        assert_eq!(*logging, expected, "{id}");
    }
    // An alarm on the depth of each dead-letter queue (moto's CloudFormation
    // skips alarms: what it was given, which cfn-lint checked).
    let queues = &created["queues"];
    for queue in ["CronBindingDeadLetterQueue", "TaskEventsDeadLetterQueue", "TaskChangesFailureQueue"] {
        assert!(queues.get(queue).is_some(), "{queue}: {queues}");
        let alarm = &translated["Resources"][format!("{queue}DepthAlarm")];
        assert_eq!(alarm["Type"], "AWS::CloudWatch::Alarm", "{queue}");
        let properties = &alarm["Properties"];
        assert_eq!(properties["MetricName"], "ApproximateNumberOfMessagesVisible", "{queue}");
        assert_eq!(properties["Dimensions"][0]["Value"], json!({"Fn::GetAtt": [queue, "QueueName"]}), "{queue}");
    }

    // SQS: partial batch responses, the batch size and the concurrency cap.
    let mappings = functions["TaskEventsFunction"]["event_source_mappings"].as_array().unwrap();
    assert_eq!(mappings.len(), 1, "{mappings:?}");
    let mapping = &mappings[0];
    assert!(mapping["event_source_arn"].as_str().unwrap().ends_with(":task-events"), "{mapping}");
    assert_eq!(mapping["function_response_types"], json!(["ReportBatchItemFailures"]));
    assert_eq!(mapping["batch_size"], 10);
    assert_eq!(mapping["scaling_config"], json!({"MaximumConcurrency": 10}));
    // ... on a queue whose visibility timeout is six times the function's, redriven after 5 receives.
    assert_eq!(queues["TaskEventsQueue"]["VisibilityTimeout"], "180");
    let redrive: Value = serde_json::from_str(queues["TaskEventsQueue"]["RedrivePolicy"].as_str().unwrap()).unwrap();
    assert_eq!(redrive["deadLetterTargetArn"], queues["TaskEventsDeadLetterQueue"]["QueueArn"]);
    assert_eq!(redrive["maxReceiveCount"], 5);
    assert_eq!(queues["TaskEventsDeadLetterQueue"]["MessageRetentionPeriod"], "1209600");

    // The table's stream: its mapping reads from the start, bisects a failing
    // batch and sends what runs out of retries to its on-failure queue.
    let mappings = functions["TaskChangesFunction"]["event_source_mappings"].as_array().unwrap();
    assert_eq!(mappings.len(), 1, "{mappings:?}");
    let mapping = &mappings[0];
    assert!(mapping["event_source_arn"].as_str().unwrap().contains(":table/tasks/stream/"), "{mapping}");
    assert_eq!(mapping["function_response_types"], json!(["ReportBatchItemFailures"]));
    let esm = &translated_resource(&translated, "AWS::Lambda::EventSourceMapping", "TaskChanges")["Properties"];
    assert_eq!((&esm["StartingPosition"], &esm["BisectBatchOnFunctionError"]), (&json!("TRIM_HORIZON"), &json!(true)));
    assert_eq!(
        esm["DestinationConfig"]["OnFailure"]["Destination"],
        json!({"Fn::GetAtt": ["TaskChangesFailureQueue", "Arn"]})
    );

    // IAM: the report bucket, the sender identity and the task-done topic,
    // nothing for the HTTP binding, no wildcard but the one the stream's
    // ListStreams needs (it has no resource of its own).
    let roles = &created["roles"];
    for role in
        ["CronBindingFunctionRole", "GithubWebhookFunctionRole", "TaskChangesFunctionRole", "TaskEventsFunctionRole"]
    {
        let all = statements(&roles[role]);
        let text = serde_json::to_string(&all).unwrap();
        assert!(
            text.contains("arn:aws:s3:::task-api-reports/*") && text.contains("arn:aws:s3:::task-api-reports\""),
            "{role}: {text}"
        );
        assert!(text.contains(":identity/task-api@example.com"), "{role}: {text}");
        let topic = json!(["arn:aws:sns:us-east-1:123456789012:task-done"]);
        let publishes = |s: &Value| s["Action"] == json!(["sns:Publish"]) && s["Resource"] == topic;
        assert!(all.iter().any(publishes), "{role}: {text}");
        let wildcards: Vec<&Value> =
            all.iter().filter(|s| s["Resource"] == "*" || s["Resource"] == json!(["*"])).collect();
        let expected_wildcards = if role == "TaskChangesFunctionRole" { 1 } else { 0 };
        assert_eq!(wildcards.len(), expected_wildcards, "{role}: {text}");
        let list_streams =
            |s: &&Value| s["Action"] == "dynamodb:ListStreams" || s["Action"] == json!(["dynamodb:ListStreams"]);
        assert!(wildcards.iter().all(list_streams), "{role}: {text}");
        assert!(!text.contains("monitoring"), "{role}: {text}");
        assert_eq!(text.contains("dynamodb:GetRecords"), role == "TaskChangesFunctionRole", "{role}: {text}");
    }
    // The cron function and its schedule may send to the dead-letter queue.
    let dlq = queues["CronBindingDeadLetterQueue"]["QueueArn"].as_str().unwrap();
    for role in ["CronBindingFunctionRole", "CronBindingFunctionScheduleRole"] {
        let sends =
            statements(&roles[role]).into_iter().any(|s| s["Action"] == "sqs:SendMessage" && s["Resource"] == dlq);
        assert!(sends, "{role} cannot send to the dead-letter queue: {}", roles[role]);
    }

    // What moto skips, from the translated template: the schedule ...
    let schedule = &translated_resource(&translated, "AWS::Scheduler::Schedule", "CronBinding")["Properties"];
    assert_eq!(schedule["ScheduleExpression"], "cron(*/5 * * * ? *)");
    assert_eq!(
        schedule["Target"]["RetryPolicy"],
        json!({"MaximumEventAgeInSeconds": 3600, "MaximumRetryAttempts": 185})
    );
    assert_eq!(
        schedule["Target"]["DeadLetterConfig"]["Arn"],
        json!({"Fn::GetAtt": ["CronBindingDeadLetterQueue", "Arn"]})
    );
    let input: Value = serde_json::from_str(schedule["Target"]["Input"].as_str().unwrap()).unwrap();
    assert_eq!(
        (input["binding"].as_str(), input["scheduledTime"].as_str(), input["attempt"].as_str()),
        (Some("cron-binding"), Some("<aws.scheduler.scheduled-time>"), Some("<aws.scheduler.attempt-number>"))
    );
    // ... the failed-delivery destination ...
    let invoke = &translated_resource(&translated, "AWS::Lambda::EventInvokeConfig", "CronBinding")["Properties"];
    assert_eq!(
        invoke["DestinationConfig"]["OnFailure"]["Destination"],
        json!({"Fn::GetAtt": ["CronBindingDeadLetterQueue", "Arn"]})
    );
    // ... the webhook route ...
    let api = &translated_resource(&translated, "AWS::ApiGatewayV2::Api", "WebhookApi")["Properties"]["Body"];
    let route = &api["paths"]["/github-webhook"]["post"]["x-amazon-apigateway-integration"];
    assert_eq!(route["payloadFormatVersion"], "2.0", "{api}");
    // ... the components layer, and the architecture.
    let function = &translated_resource(&translated, "AWS::Lambda::Function", "TaskEventsFunction")["Properties"];
    assert_eq!(function["Architectures"], json!(["arm64"]));
    let layer = function["Layers"][0]["Ref"].as_str().unwrap();
    assert_eq!(translated["Resources"][layer]["Type"], "AWS::Lambda::LayerVersion");
    assert!(
        created["layers"].as_object().unwrap().keys().any(|name| name.contains("ComponentsLayer")),
        "{}",
        created["layers"]
    );

    // `bindery dlq --stack` finds a binding's dead-letter queue in the stack's outputs.
    let emulator = Emulator { endpoint: moto.endpoint.clone(), kind: EmulatorKind::Moto };
    let home = tempfile::tempdir().unwrap();
    let dlq = |binding: &str| {
        let components = workspace().join("examples/task-api/components/aws");
        let output = Command::new(debug_bin("bindery"))
            .args(["dlq", "list", binding, "--stack", "bindery", "--components"])
            .arg(components)
            .env_clear()
            .envs(emulator.default_chain_env(home.path()))
            .env("GITHUB_WEBHOOK_SECRET", "unused")
            .output()
            .unwrap();
        (output.status.success(), text(&output))
    };
    let (listed, said) = dlq("cron-binding");
    assert!(listed && said.starts_with("cron-binding: 0 message(s) in "), "{said}");
    assert!(said.contains("CronBindingDeadLetterQueue"), "the stack's queue: {said}");
    let (listed, said) = dlq("task-changes");
    assert!(listed && said.contains("TaskChangesFailureQueue"), "a stream's failure queue: {said}");
    let (listed, said) = dlq("github-webhook");
    assert!(
        !listed && said.contains("has no output GithubWebhookDeadLetterQueue or GithubWebhookFailureQueue"),
        "{said}"
    );
}

#[test]
fn fifo_windowed_and_zoned_bindings_deploy_with_their_settings() {
    // A --prebuilt template: each function is the directory `cargo lambda build` leaves.
    let dir = tempfile::tempdir().unwrap();
    let template = fixture_template(dir.path(), &["--prebuilt", "--code-uri", dir.path().to_str().unwrap()]);
    let binaries = [
        "bindery-cron",
        "bindery-sqs",
        "bindery-webhook",
        "bindery-kinesis",
        "bindery-dynamodb-streams",
        "bindery-s3-events",
        "bindery-sns",
    ];
    for binary in binaries {
        let built = dir.path().join("target/lambda").join(binary);
        std::fs::create_dir_all(&built).unwrap();
        std::fs::copy(release_bin(binary), built.join("bootstrap")).unwrap();
    }
    let (created, translated, _moto) = deploy(&template, &["SecretStripeWebhookSecret=prod/stripe"], None);
    for (id, binary) in [
        ("NightlyFunction", "bindery-cron"),
        ("EveryQuarterHourFunction", "bindery-cron"),
        ("OrdersFunction", "bindery-sqs"),
        ("ClicksFunction", "bindery-sqs"),
        ("StripeEventsFunction", "bindery-webhook"),
        ("UploadsFunction", "bindery-s3-events"),
        ("LegacyFilesFunction", "bindery-s3-events"),
        ("TaskNoticesFunction", "bindery-sns"),
        ("ClickstreamFunction", "bindery-kinesis"),
        ("TaskChangesFunction", "bindery-dynamodb-streams"),
    ] {
        let packaged = &created["packaged"][id];
        assert_eq!(packaged["code_uri"], format!("target/lambda/{binary}"), "{id}");
        assert_eq!(created["functions"][id]["code_sha256"], packaged["sha256"], "{id} runs the zip of its directory");
    }
    let queues = &created["queues"];

    // FIFO: a FIFO queue and dead-letter queue, redriven after 3 receives, at most 5 batches at once.
    assert_eq!(queues["OrdersQueue"]["FifoQueue"], "true");
    assert!(queues["OrdersDeadLetterQueue"]["QueueArn"].as_str().unwrap().ends_with(":orders-dlq.fifo"));
    let redrive: Value = serde_json::from_str(queues["OrdersQueue"]["RedrivePolicy"].as_str().unwrap()).unwrap();
    assert_eq!(redrive["maxReceiveCount"], 3);
    let orders = &created["functions"]["OrdersFunction"]["event_source_mappings"][0];
    assert_eq!(orders["scaling_config"], json!({"MaximumConcurrency": 5}));
    assert_eq!(orders["function_response_types"], json!(["ReportBatchItemFailures"]));

    // Large batches with a window; the visibility timeout the component asks for.
    let clicks = &created["functions"]["ClicksFunction"]["event_source_mappings"][0];
    assert_eq!((clicks["batch_size"].as_u64(), clicks["maximum_batching_window"].as_u64()), (Some(500), Some(5)));
    assert_eq!(queues["ClicksQueue"]["VisibilityTimeout"], "600");

    // The webhook secret's parameter picks the Secrets Manager secret, which
    // the function reads at init and may read: that one and no other.
    let env = &created["functions"]["StripeEventsFunction"]["environment"];
    assert!(env.get("STRIPE_WEBHOOK_SECRET").is_none(), "{env}");
    let ids: Value = serde_json::from_str(env["BINDERY_SECRET_IDS"].as_str().unwrap()).unwrap();
    assert_eq!(ids, json!({"STRIPE_WEBHOOK_SECRET": "prod/stripe"}));
    let reads: Vec<Value> = statements(&created["roles"]["StripeEventsFunctionRole"])
        .into_iter()
        .filter(|s| s["Action"] == "secretsmanager:GetSecretValue")
        .collect();
    assert_eq!(reads.len(), 1, "{reads:?}");
    assert_eq!(
        reads[0]["Resource"],
        json!(["arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/stripe-??????"])
    );
    assert!(created["functions"]["NightlyFunction"]["environment"].get("BINDERY_SECRET_IDS").is_none());

    // Outputs: S3 in its region's bucket, SES on any identity (no sender given), the outbox queue,
    // and the two secrets of the AWS stores, each exactly.
    let text = serde_json::to_string(&statements(&created["roles"]["NightlyFunctionRole"])).unwrap();
    for part in [
        "arn:aws:s3:::archive-bucket/*",
        "arn:aws:ses:us-east-1:123456789012:identity/*",
        "arn:aws:sqs:us-east-1:123456789012:outbox",
        "arn:aws:secretsmanager:eu-west-1:123456789012:secret:partner-token-??????",
        "arn:aws:ssm:us-east-1:123456789012:parameter/bindery/ledger-key",
    ] {
        assert!(text.contains(part), "{part} missing from {text}");
    }

    // The zoned schedule keeps its zone and its own retry policy; the rate is a rate.
    let nightly = &translated_resource(&translated, "AWS::Scheduler::Schedule", "Nightly")["Properties"];
    assert_eq!(
        (nightly["ScheduleExpression"].as_str(), nightly["ScheduleExpressionTimezone"].as_str()),
        (Some("cron(30 2 * * ? *)"), Some("Europe/Berlin"))
    );
    assert_eq!(nightly["Target"]["RetryPolicy"], json!({"MaximumEventAgeInSeconds": 7200, "MaximumRetryAttempts": 10}));
    let input: Value = serde_json::from_str(nightly["Target"]["Input"].as_str().unwrap()).unwrap();
    assert_eq!(
        (input["binding"].as_str(), input["scheduledTime"].as_str(), input["attempt"].as_str()),
        (Some("nightly"), Some("<aws.scheduler.scheduled-time>"), Some("<aws.scheduler.attempt-number>"))
    );
    let quarter = &translated_resource(&translated, "AWS::Scheduler::Schedule", "EveryQuarterHour")["Properties"];
    assert_eq!(quarter["ScheduleExpression"], "rate(15 minutes)");

    // The webhook's route on the HTTP API, which moto skips too.
    let api = &translated_resource(&translated, "AWS::ApiGatewayV2::Api", "WebhookApi")["Properties"]["Body"];
    let route = &api["paths"]["/stripe-events"]["post"]["x-amazon-apigateway-integration"];
    assert_eq!(route["payloadFormatVersion"], "2.0", "{api}");
    assert_eq!(
        route["uri"]["Fn::Sub"].as_str().map(|uri| uri.contains("StripeEventsFunction.Arn")),
        Some(true),
        "{api}"
    );

    // S3 events: the stack's own bucket, created on moto, notifies the function (moto
    // skips a bucket's notifications, so they are read from SAM's translation); the
    // existing bucket gets only the permission, limited to this account.
    assert_eq!(created["resources"]["UploadsBucket"], "AWS::S3::Bucket");
    let bucket = &translated["Resources"]["UploadsBucket"];
    assert_eq!(bucket["Properties"]["BucketName"], "bindery-fixture-uploads");
    let notified = &bucket["Properties"]["NotificationConfiguration"]["LambdaConfigurations"][0];
    assert_eq!(notified["Event"], "s3:ObjectCreated:*", "{bucket}");
    assert_eq!(notified["Filter"]["S3Key"]["Rules"], json!([{"Name": "prefix", "Value": "incoming/"}]));
    assert!(bucket["DependsOn"].to_string().contains("Uploads"), "S3 checks the permission first: {bucket}");
    let legacy = &translated["Resources"]["LegacyFilesS3Permission"]["Properties"];
    assert_eq!(legacy["SourceAccount"], json!({"Ref": "AWS::AccountId"}));
    assert!(translated["Resources"].get("LegacyFilesBucket").is_none());
    assert_eq!(created["queues"]["UploadsDeadLetterQueue"]["MessageRetentionPeriod"], "1209600");

    // SNS: the subscription (moto skips it, so it is read from the translation) with its
    // redrive policy to the queue that also takes what the app did not acknowledge.
    let subscription = &translated["Resources"]["TaskNoticesSubscription"]["Properties"];
    assert_eq!(subscription["Protocol"], "lambda");
    assert_eq!(subscription["TopicArn"], "arn:aws:sns:us-east-1:123456789012:task-notices");
    assert_eq!(
        subscription["RedrivePolicy"]["deadLetterTargetArn"],
        json!({"Fn::GetAtt": ["TaskNoticesDeadLetterQueue", "Arn"]})
    );
    assert!(created["queues"].get("TaskNoticesDeadLetterQueue").is_some(), "{}", created["queues"]);

    // The streams: an event source mapping each, with partial batch responses, on moto.
    for (function, source) in [("ClickstreamFunction", ":kinesis:"), ("TaskChangesFunction", ":dynamodb:")] {
        let mapping = &created["functions"][function]["event_source_mappings"][0];
        assert_eq!(mapping["function_response_types"], json!(["ReportBatchItemFailures"]), "{function}: {mapping}");
        assert!(mapping["event_source_arn"].as_str().is_some_and(|arn| arn.contains(source)), "{function}: {mapping}");
    }
}
