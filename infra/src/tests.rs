//! Generation from components written to a temporary directory: what each
//! component becomes, and every refusal, named by file, component and field.
#![allow(clippy::unwrap_used)]

use serde_json::{Value, json};

use super::*;

fn settings() -> Settings {
    Settings {
        code_uri: ".".into(),
        prebuilt: false,
        components_uri: "components".into(),
        architecture: Architecture::Arm64,
        timeout_seconds: 30,
        memory_mb: 128,
        binary: None,
        binaries: Vec::new(),
        app_id: None,
        now: "2026-01-01T00:00:00Z".parse().unwrap(),
        tracing: false,
        log_level: "INFO".into(),
        log_retention_days: 30,
    }
}

/// One component of `type_` with `items` (name, value) as YAML.
fn component(name: &str, type_: &str, items: &[(&str, &str)]) -> String {
    let mut yaml = format!(
        "apiVersion: dapr.io/v1alpha1\nkind: Component\nmetadata:\n  name: {name}\nspec:\n  type: {type_}\n  version: v1\n  metadata:\n"
    );
    for (item, value) in items {
        yaml.push_str(&format!("  - name: {item}\n    value: {value:?}\n"));
    }
    yaml
}

fn generate_with(yaml: &str, settings: &Settings) -> Result<Generated, ConfigErrors> {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("components.yaml"), yaml).unwrap();
    let (components, refs) = load_components(dir.path(), None, None).unwrap();
    sam_template(&components, &refs, settings)
}

fn generate(yaml: &str) -> Generated {
    generate_with(yaml, &settings()).unwrap_or_else(|e| panic!("{e}"))
}

/// The template as JSON, to look into.
fn json_of(generated: &Generated) -> Value {
    serde_json::to_value(&generated.template).unwrap()
}

/// The one error of generating `yaml`, as text.
fn refusal(yaml: &str) -> String {
    let errors = generate_with(yaml, &settings()).expect_err("should be refused");
    assert_eq!(errors.0.len(), 1, "{errors}");
    errors.0[0].to_string()
}

fn assert_mentions(text: &str, parts: &[&str]) {
    for part in parts {
        assert!(text.contains(part), "{text:?} should mention {part:?}");
    }
}

#[test]
fn a_cron_binding_is_a_scheduler_schedule_with_retries_and_a_dead_letter_queue() {
    let t = json_of(&generate(&component(
        "nightly",
        "bindings.cron",
        &[("schedule", "CRON_TZ=Europe/Berlin 0 30 2 * * *")],
    )));
    let function = &t["Resources"]["NightlyFunction"];
    assert_eq!(
        function["Metadata"],
        json!({"BuildMethod": "rust-cargolambda", "BuildProperties": {"Binary": "bindery-cron"}})
    );
    assert_eq!(function["Properties"]["Environment"]["Variables"]["BINDERY_BINDING"], "nightly");
    let schedule = &function["Properties"]["Events"]["Schedule"];
    assert_eq!(schedule["Type"], "ScheduleV2");
    let p = &schedule["Properties"];
    assert_eq!(p["ScheduleExpression"], "cron(30 2 * * ? *)");
    assert_eq!(p["ScheduleExpressionTimezone"], "Europe/Berlin");
    assert_eq!(p["RetryPolicy"], json!({"MaximumRetryAttempts": 185, "MaximumEventAgeInSeconds": 3600}));
    assert_eq!(p["DeadLetterConfig"]["Arn"], json!({"Fn::GetAtt": ["NightlyDeadLetterQueue", "Arn"]}));
    let input: Value = serde_json::from_str(p["Input"].as_str().unwrap()).unwrap();
    assert_eq!(input["binding"], "nightly");
    assert_eq!(input["scheduledTime"], "<aws.scheduler.scheduled-time>");
    assert_eq!(input["attempt"], "<aws.scheduler.attempt-number>");
    let invoke = &function["Properties"]["EventInvokeConfig"];
    assert_eq!(invoke["DestinationConfig"]["OnFailure"]["Destination"], p["DeadLetterConfig"]["Arn"]);
    assert_eq!(t["Resources"]["NightlyDeadLetterQueue"]["Type"], "AWS::SQS::Queue");
}

#[test]
fn retry_settings_come_from_the_metadata() {
    let yaml =
        component("c", "bindings.cron", &[("schedule", "@hourly"), ("maxRetryAttempts", "3"), ("maxEventAge", "2h")]);
    let t = json_of(&generate(&yaml));
    let p = &t["Resources"]["CFunction"]["Properties"];
    assert_eq!(
        p["Events"]["Schedule"]["Properties"]["RetryPolicy"],
        json!({"MaximumRetryAttempts": 3, "MaximumEventAgeInSeconds": 7200})
    );
    assert_eq!(p["EventInvokeConfig"]["MaximumEventAgeInSeconds"], 7200);
}

#[test]
fn schedules_aws_cannot_run_are_refused_naming_the_field() {
    let sub_minute = refusal(&component("fast", "bindings.cron", &[("schedule", "@every 30s")]));
    assert_mentions(&sub_minute, &["components.yaml", "\"fast\"", "\"schedule\"", "sub-minute", "use @every 1m"]);
    let seconds = refusal(&component("odd", "bindings.cron", &[("schedule", "15 * * * * *")]));
    assert_mentions(&seconds, &["\"odd\"", "seconds field is 15", "write 0 as the seconds"]);
    let days = refusal(&component("days", "bindings.cron", &[("schedule", "0 0 1 * mon")]));
    assert_mentions(&days, &["\"days\"", "both day-of-month", "split it into two components"]);
    let retries = refusal(&component("r", "bindings.cron", &[("schedule", "@daily"), ("maxRetryAttempts", "200")]));
    assert_mentions(&retries, &["\"maxRetryAttempts\"", "185"]);
    let age = refusal(&component("a", "bindings.cron", &[("schedule", "@daily"), ("maxEventAge", "7h")]));
    assert_mentions(&age, &["\"maxEventAge\"", "1m to 6h"]);
}

#[test]
fn an_sqs_binding_is_a_queue_with_a_dead_letter_queue_and_partial_batch_responses() {
    let yaml = component("tasks", "bindings.aws.sqs", &[("queueName", "tasks"), ("direction", "input")]);
    let t = json_of(&generate(&yaml));
    let queue = &t["Resources"]["TasksQueue"]["Properties"];
    assert_eq!(queue["QueueName"], "tasks");
    assert_eq!(queue["VisibilityTimeout"], 180, "six times the 30 s timeout");
    assert_eq!(queue["RedrivePolicy"]["maxReceiveCount"], 5);
    assert_eq!(t["Resources"]["TasksDeadLetterQueue"]["Properties"]["QueueName"], "tasks-dlq");
    let event = &t["Resources"]["TasksFunction"]["Properties"]["Events"]["Queue"]["Properties"];
    assert_eq!(event["FunctionResponseTypes"], json!(["ReportBatchItemFailures"]));
    assert_eq!(event["BatchSize"], 10);
    assert_eq!(event["ScalingConfig"]["MaximumConcurrency"], 10);
    assert!(event.get("MaximumBatchingWindowInSeconds").is_none());
    let function = &t["Resources"]["TasksFunction"];
    assert_eq!(
        function["Metadata"],
        json!({"BuildMethod": "rust-cargolambda", "BuildProperties": {"Binary": "bindery-sqs"}})
    );
    let variables = &function["Properties"]["Environment"]["Variables"];
    assert_eq!(variables["BINDERY_BINDING"], "tasks");
    assert_eq!(variables["MALLOC_MMAP_THRESHOLD_"], "131072", "large batches do not stay resident");
}

#[test]
fn batch_settings_come_from_the_metadata_and_widen_the_visibility_timeout() {
    let items = [
        ("queueName", "clicks"),
        ("direction", "input"),
        ("batchSize", "500"),
        ("maxBatchingWindow", "20s"),
        ("maxReceiveCount", "8"),
        ("maxConcurrency", "50"),
    ];
    let t = json_of(
        &generate_with(
            &component("clicks", "bindings.aws.sqs", &items),
            &Settings { timeout_seconds: 60, ..settings() },
        )
        .unwrap(),
    );
    let event = &t["Resources"]["ClicksFunction"]["Properties"]["Events"]["Queue"]["Properties"];
    assert_eq!((event["BatchSize"].clone(), event["MaximumBatchingWindowInSeconds"].clone()), (json!(500), json!(20)));
    assert_eq!(event["ScalingConfig"]["MaximumConcurrency"], 50);
    let queue = &t["Resources"]["ClicksQueue"]["Properties"];
    assert_eq!(queue["VisibilityTimeout"], 6 * 60 + 20);
    assert_eq!(queue["RedrivePolicy"]["maxReceiveCount"], 8);
}

#[test]
fn a_fifo_queue_gets_a_fifo_dead_letter_queue() {
    let generated =
        generate(&component("orders", "bindings.aws.sqs", &[("queueName", "orders.fifo"), ("direction", "input")]));
    let t = json_of(&generated);
    assert_eq!(t["Resources"]["OrdersQueue"]["Properties"]["FifoQueue"], true);
    let dlq = &t["Resources"]["OrdersDeadLetterQueue"]["Properties"];
    assert_eq!((dlq["QueueName"].clone(), dlq["FifoQueue"].clone()), (json!("orders-dlq.fifo"), json!(true)));
    assert!(generated.notes.iter().any(|n| n.contains("leaves its group")), "{:?}", generated.notes);
}

#[test]
fn batch_settings_aws_refuses_are_refused_naming_the_field() {
    let sqs = |items: &[(&str, &str)]| {
        let mut all = vec![("queueName", "q.fifo"), ("direction", "input")];
        all.extend_from_slice(items);
        refusal(&component("q", "bindings.aws.sqs", &all))
    };
    assert_mentions(&sqs(&[("batchSize", "11")]), &["\"batchSize\"", "1-10 (FIFO queues)"]);
    assert_mentions(
        &sqs(&[("maxBatchingWindow", "1s")]),
        &["\"maxBatchingWindow\"", "FIFO queues take no batching window"],
    );
    let standard = |items: &[(&str, &str)]| {
        let mut all = vec![("queueName", "q"), ("direction", "input")];
        all.extend_from_slice(items);
        refusal(&component("q", "bindings.aws.sqs", &all))
    };
    assert_mentions(&standard(&[("batchSize", "100")]), &["\"maxBatchingWindow\"", "add maxBatchingWindow: 1s"]);
    assert_mentions(&standard(&[("batchSize", "20000")]), &["\"batchSize\"", "1-10000"]);
    assert_mentions(
        &standard(&[("visibilityTimeout", "60s")]),
        &["\"visibilityTimeout\"", "6 × the function timeout", "180s"],
    );
    assert_mentions(&standard(&[("maxConcurrency", "1")]), &["\"maxConcurrency\"", "2-1000"]);
    assert_mentions(&standard(&[("maxReceiveCount", "0")]), &["\"maxReceiveCount\""]);
    assert_mentions(&standard(&[("maxBatchingWindow", "10m")]), &["\"maxBatchingWindow\"", "5m"]);
}

#[test]
fn a_webhook_is_a_post_route_on_one_http_api() {
    let yaml = [
        component("github", "bindings.http", &[("direction", "input"), ("signatureScheme", "none")]),
        component("stripe", "bindings.http", &[("direction", "input"), ("signatureScheme", "none")]),
    ]
    .join("---\n");
    let t = json_of(&generate(&yaml));
    assert_eq!(t["Resources"]["WebhookApi"]["Type"], "AWS::Serverless::HttpApi");
    for (id, path) in [("GithubFunction", "/github"), ("StripeFunction", "/stripe")] {
        assert_eq!(
            t["Resources"][id]["Metadata"],
            json!({"BuildMethod": "rust-cargolambda", "BuildProperties": {"Binary": "bindery-webhook"}})
        );
        let event = &t["Resources"][id]["Properties"]["Events"]["Webhook"];
        assert_eq!(event["Type"], "HttpApi");
        assert_eq!(event["Properties"]["Method"], "POST");
        assert_eq!(event["Properties"]["Path"], path);
        assert_eq!(event["Properties"]["ApiId"], json!({"Ref": "WebhookApi"}));
    }
}

#[test]
fn s3_events_are_the_bucket_s_notification_with_retries_and_a_dead_letter_queue() {
    let items = [("direction", "input"), ("bucket", "uploads"), ("filterPrefix", "reports/"), ("filterSuffix", ".csv")];
    let t = json_of(&generate(&component("uploads", "bindings.aws.s3", &items)));
    let function = &t["Resources"]["UploadsFunction"];
    assert_eq!(function["Metadata"]["BuildProperties"]["Binary"], "bindery-s3-events");
    let bucket = &t["Resources"]["UploadsBucket"];
    assert_eq!(bucket["Type"], "AWS::S3::Bucket");
    assert_eq!(bucket["Properties"]["BucketName"], "uploads");
    assert_eq!(bucket["Properties"]["PublicAccessBlockConfiguration"]["BlockPublicAcls"], true);
    let event = &function["Properties"]["Events"]["Notification"];
    assert_eq!(event["Type"], "S3");
    assert_eq!(event["Properties"]["Bucket"], json!({"Ref": "UploadsBucket"}));
    assert_eq!(event["Properties"]["Events"], json!(["s3:ObjectCreated:*"]));
    assert_eq!(
        event["Properties"]["Filter"],
        json!({"S3Key": {"Rules": [{"Name": "prefix", "Value": "reports/"}, {"Name": "suffix", "Value": ".csv"}]}})
    );
    let invoke = &function["Properties"]["EventInvokeConfig"];
    assert_eq!(invoke["MaximumRetryAttempts"], 2);
    assert_eq!(
        invoke["DestinationConfig"]["OnFailure"]["Destination"],
        json!({"Fn::GetAtt": ["UploadsDeadLetterQueue", "Arn"]})
    );
    assert_eq!(t["Resources"]["UploadsDeadLetterQueue"]["Type"], "AWS::SQS::Queue");
}

#[test]
fn an_existing_bucket_gets_the_permission_and_a_note_with_the_notification() {
    let items = [
        ("direction", "input"),
        ("bucket", "legacy-data"),
        ("existingBucket", "true"),
        ("events", "s3:ObjectRemoved:*"),
    ];
    let generated = generate(&component("legacy", "bindings.aws.s3", &items));
    let t = json_of(&generated);
    assert!(t["Resources"].get("LegacyBucket").is_none(), "the bucket is not CloudFormation's");
    assert!(t["Resources"]["LegacyFunction"]["Properties"]["Events"].as_object().is_none_or(|e| e.is_empty()));
    let permission = &t["Resources"]["LegacyS3Permission"]["Properties"];
    assert_eq!(permission["Principal"], "s3.amazonaws.com");
    assert_eq!(permission["SourceArn"], json!({"Fn::Sub": "arn:${AWS::Partition}:s3:::legacy-data"}));
    assert_eq!(permission["SourceAccount"], json!({"Ref": "AWS::AccountId"}));
    let note = generated.notes.iter().find(|n| n.starts_with("legacy:")).expect("a note on the notification");
    assert_mentions(
        note,
        &[
            "put-bucket-notification-configuration --bucket legacy-data",
            "s3:ObjectRemoved:*",
            "<LegacyFunctionArn>",
            "replaces",
        ],
    );
}

#[test]
fn an_s3_binding_is_output_only_unless_it_asks_for_input() {
    let t = json_of(&generate(&component("files", "bindings.aws.s3", &[("bucket", "my-bucket")])));
    assert!(t["Resources"].get("FilesFunction").is_none(), "{t}");
    // The input side's fields are checked as the components load.
    let dir = tempfile::tempdir().unwrap();
    let yaml = component("files", "bindings.aws.s3", &[("direction", "input"), ("bucket", "b"), ("events", "Put")]);
    std::fs::write(dir.path().join("components.yaml"), yaml).unwrap();
    let bad = load_components(dir.path(), None, None).unwrap_err().to_string();
    assert_mentions(&bad, &["\"files\"", "\"events\"", "not an S3 event type"]);
}

#[test]
fn an_sns_input_is_a_subscription_whose_failures_reach_one_dead_letter_queue() {
    let topic = "arn:aws:sns:eu-west-1:123456789012:orders";
    let t =
        json_of(&generate(&component("orders", "bindings.aws.sns", &[("direction", "input"), ("topicArn", topic)])));
    let function = &t["Resources"]["OrdersFunction"];
    assert_eq!(function["Metadata"]["BuildProperties"]["Binary"], "bindery-sns");
    let subscription = &t["Resources"]["OrdersSubscription"]["Properties"];
    assert_eq!(subscription["Protocol"], "lambda");
    assert_eq!(subscription["TopicArn"], topic);
    assert_eq!(subscription["Endpoint"], json!({"Fn::GetAtt": ["OrdersFunction", "Arn"]}));
    let dlq = json!({"Fn::GetAtt": ["OrdersDeadLetterQueue", "Arn"]});
    assert_eq!(subscription["RedrivePolicy"]["deadLetterTargetArn"], dlq);
    let permission = &t["Resources"]["OrdersSnsPermission"]["Properties"];
    assert_eq!((&permission["Principal"], &permission["SourceArn"]), (&json!("sns.amazonaws.com"), &json!(topic)));
    assert_eq!(function["Properties"]["EventInvokeConfig"]["DestinationConfig"]["OnFailure"]["Destination"], dlq);
    let policy = &t["Resources"]["OrdersDeadLetterQueuePolicy"]["Properties"]["PolicyDocument"]["Statement"][0];
    assert_eq!(policy["Principal"], json!({"Service": "sns.amazonaws.com"}));
    assert_eq!(policy["Condition"], json!({"ArnEquals": {"aws:SourceArn": topic}}), "only this topic may send");
    // Without a direction, Dapr's SNS binding is output only: no function.
    let t = json_of(&generate(&component("orders", "bindings.aws.sns", &[("topicArn", topic)])));
    assert!(t["Resources"].get("OrdersFunction").is_none(), "{t}");
}

#[test]
fn output_bindings_get_statements_scoped_to_what_they_use_and_http_none() {
    let yaml = [
        component("trigger", "bindings.cron", &[("schedule", "@daily")]),
        component("files", "bindings.aws.s3", &[("bucket", "my-bucket")]),
        component("mail", "bindings.aws.ses", &[("emailFrom", "app@example.org"), ("region", "eu-west-1")]),
        component("out", "bindings.aws.sqs", &[("queueName", "outbox"), ("direction", "output")]),
        component("hook", "bindings.http", &[("url", "https://example.org")]),
    ]
    .join("---\n");
    let t = json_of(&generate(&yaml));
    let statements = &t["Resources"]["TriggerFunction"]["Properties"]["Policies"][0]["Statement"];
    let text = statements.to_string();
    assert_mentions(
        &text,
        &[
            "s3:::my-bucket/*",
            "s3:::my-bucket\"",
            "ses:eu-west-1:${AWS::AccountId}:identity/app@example.org",
            "identity/example.org",
            "sqs:${AWS::Region}:${AWS::AccountId}:outbox",
            "sqs:SendMessage",
        ],
    );
    assert!(!text.contains("\"Sid\":\"Hook"), "no statement for the HTTP binding: {text}");
    assert!(!text.contains("\"*\""), "no wildcard resource: {text}");
    assert_eq!(statements.as_array().unwrap().len(), 4, "S3 objects, S3 list, SES, SQS: {text}");
}

/// SNS, DynamoDB and Kinesis outputs get the actions they call, on their
/// topic, table or stream only; a table ARN is used as it is.
#[test]
fn sns_dynamodb_and_kinesis_outputs_get_statements_on_their_resource() {
    let yaml = [
        component("trigger", "bindings.cron", &[("schedule", "@daily")]),
        component("done", "bindings.aws.sns", &[("topicArn", "arn:aws:sns:eu-west-1:123456789012:done.fifo")]),
        component("tasks", "bindings.aws.dynamodb", &[("table", "Tasks"), ("region", "eu-west-2")]),
        component(
            "audit",
            "bindings.aws.dynamodb",
            &[("table", "arn:aws:dynamodb:us-west-2:210987654321:table/Audit")],
        ),
        component("clicks", "bindings.aws.kinesis", &[("streamName", "clicks"), ("direction", "output")]),
    ]
    .join("---\n");
    let t = json_of(&generate(&yaml));
    let statements = t["Resources"]["TriggerFunction"]["Properties"]["Policies"][0]["Statement"].clone();
    let by_sid = |sid: &str| {
        statements
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["Sid"] == sid)
            .cloned()
            .unwrap_or_else(|| panic!("no {sid}: {statements}"))
    };
    assert_eq!(by_sid("DonePublish")["Action"], json!(["sns:Publish"]));
    assert_eq!(by_sid("DonePublish")["Resource"], json!(["arn:aws:sns:eu-west-1:123456789012:done.fifo"]));
    let items = ["dynamodb:PutItem", "dynamodb:GetItem", "dynamodb:DeleteItem"];
    assert_eq!(by_sid("TasksItems")["Action"], json!(items));
    assert_eq!(
        by_sid("TasksItems")["Resource"],
        json!([{"Fn::Sub": "arn:${AWS::Partition}:dynamodb:eu-west-2:${AWS::AccountId}:table/Tasks"}])
    );
    assert_eq!(by_sid("AuditItems")["Resource"], json!(["arn:aws:dynamodb:us-west-2:210987654321:table/Audit"]));
    assert_eq!(by_sid("ClicksPut")["Action"], json!(["kinesis:PutRecord"]));
    assert_eq!(
        by_sid("ClicksPut")["Resource"],
        json!([{"Fn::Sub": "arn:${AWS::Partition}:kinesis:${AWS::Region}:${AWS::AccountId}:stream/clicks"}])
    );
    assert_eq!(statements.as_array().unwrap().len(), 4, "{statements}");
}

/// Their resource fields write the template, so a secret may not give them.
#[test]
fn a_topic_table_or_stream_from_a_secret_is_refused() {
    for (type_, field) in
        [("bindings.aws.sns", "topicArn"), ("bindings.aws.dynamodb", "table"), ("bindings.aws.kinesis", "streamName")]
    {
        let yaml = format!(
            "apiVersion: dapr.io/v1alpha1\nkind: Component\nmetadata:\n  name: out\nspec:\n  type: {type_}\n  \
             metadata:\n  - name: {field}\n    secretKeyRef:\n      name: HIDDEN\n      key: HIDDEN\n"
        );
        let text = refusal(&yaml);
        assert_mentions(&text, &[&format!("\"{field}\""), "comes from a secret"]);
    }
}

/// The statements read the region as the binding does: `awsRegion` is
/// `region`'s alias (the template once read `region` alone).
#[test]
fn a_binding_s_region_alias_scopes_its_statement() {
    let yaml = [
        component("trigger", "bindings.cron", &[("schedule", "@daily")]),
        component(
            "out",
            "bindings.aws.sqs",
            &[("queueName", "outbox"), ("direction", "output"), ("awsRegion", "eu-central-1")],
        ),
    ]
    .join("---\n");
    let text = json_of(&generate(&yaml))["Resources"]["TriggerFunction"]["Properties"]["Policies"].to_string();
    assert_mentions(&text, &["sqs:eu-central-1:${AWS::AccountId}:outbox"]);
}

#[test]
fn each_function_gets_the_names_of_its_own_secrets_and_may_read_only_those() {
    let secret = |item: &str, variable: &str| {
        format!("  - name: {item}\n    secretKeyRef:\n      name: {variable}\n      key: {variable}\n")
    };
    let head = |name: &str, direction: &str| {
        format!(
            "apiVersion: dapr.io/v1alpha1\nkind: Component\nmetadata:\n  name: {name}\nspec:\n  type: bindings.http\n  metadata:\n  - name: direction\n    value: {direction}\n"
        )
    };
    let hook = head("hook", "input")
        + "  - name: signatureScheme\n    value: github\n"
        + &secret("signatureSecret", "HOOK_SECRET");
    let mail = head("notify", "output")
        + "  - name: url\n    value: https://example.com\n"
        + &secret("securityToken", "NOTIFY_TOKEN");
    let yaml = [hook, mail, component("c", "bindings.cron", &[("schedule", "@daily")])].join("---\n");
    let t = json_of(&generate(&yaml));
    let variables = &t["Globals"]["Function"]["Environment"]["Variables"];
    assert!(variables.get("HOOK_SECRET").is_none() && variables.get("BINDERY_SECRET_IDS").is_none(), "{variables}");
    assert!(!t.to_string().contains("resolve:secretsmanager"), "no value is resolved into the template");
    assert_eq!(t["Parameters"]["SecretHookSecret"]["Default"], "HOOK_SECRET");

    let function = |id: &str| t["Resources"][format!("{id}Function")]["Properties"].clone();
    // The webhook: its own secret and the output binding's.
    let hook = function("Hook");
    assert_eq!(
        hook["Environment"]["Variables"]["BINDERY_SECRET_IDS"],
        json!({"Fn::Sub": r#"{"HOOK_SECRET":"${SecretHookSecret}","NOTIFY_TOKEN":"${SecretNotifyToken}"}"#})
    );
    let arn = |parameter: &str| json!({"Fn::Sub": format!("arn:${{AWS::Partition}}:secretsmanager:${{AWS::Region}}:${{AWS::AccountId}}:secret:${{{parameter}}}-??????")});
    let reads = |f: &Value| {
        let statements = f["Policies"][0]["Statement"].as_array().cloned().unwrap_or_default();
        statements.into_iter().find(|s| s["Action"] == "secretsmanager:GetSecretValue").map(|s| s["Resource"].clone())
    };
    assert_eq!(reads(&hook), Some(json!([arn("SecretHookSecret"), arn("SecretNotifyToken")])));
    // The cron function: the output binding's only, never the webhook's.
    let cron = function("C");
    assert_eq!(
        cron["Environment"]["Variables"]["BINDERY_SECRET_IDS"],
        json!({"Fn::Sub": r#"{"NOTIFY_TOKEN":"${SecretNotifyToken}"}"#})
    );
    assert_eq!(reads(&cron), Some(json!([arn("SecretNotifyToken")])));
}

#[test]
fn secrets_the_deployment_cannot_read_safely_are_refused() {
    let file_store = "apiVersion: dapr.io/v1alpha1\nkind: Component\nmetadata:\n  name: local\nspec:\n  type: secretstores.local.file\n  metadata:\n  - name: secretsFile\n    value: /dev/null\n";
    let aws_store = "apiVersion: dapr.io/v1alpha1\nkind: Component\nmetadata:\n  name: aws\nspec:\n  type: secretstores.aws.secretmanager\n";
    let hook = |store: &str| {
        format!(
            "apiVersion: dapr.io/v1alpha1\nkind: Component\nmetadata:\n  name: hook\nspec:\n  type: bindings.http\n  metadata:\n  - name: direction\n    value: input\n  - name: signatureScheme\n    value: token\n  - name: tokenHeader\n    value: X-Token\n  - name: signatureSecret\n    secretKeyRef:\n      name: token\nauth:\n  secretStore: {store}\n"
        )
    };
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("secrets.json"), r#"{"token": "t"}"#).unwrap();
    let file_store = file_store.replace("/dev/null", dir.path().join("secrets.json").to_str().unwrap());
    let in_file = refusal(&format!("{file_store}---\n{}", hook("local")));
    assert_mentions(&in_file, &["\"hook\"", "\"signatureSecret\"", "local file", "plaintext"]);
    let in_aws = refusal(&format!("{aws_store}---\n{}", hook("aws")));
    assert_mentions(
        &in_aws,
        &[
            "\"hook\"",
            "\"signatureSecret\"",
            "input functions read secrets from their environment",
            "remove auth.secretStore",
        ],
    );
}

#[test]
fn a_binary_of_ones_own_replaces_the_bindery_function_and_its_app_url() {
    let yaml = [
        component("a", "bindings.cron", &[("schedule", "@daily")]),
        component("b", "bindings.cron", &[("schedule", "@hourly")]),
    ]
    .join("---\n");
    let all = Settings { binary: Some("my-app".into()), ..settings() };
    let t = json_of(&generate_with(&yaml, &all).unwrap());
    assert_eq!(t["Resources"]["AFunction"]["Metadata"]["BuildProperties"]["Binary"], "my-app");
    assert!(t["Resources"]["AFunction"]["Properties"]["Environment"]["Variables"].get("BINDERY_APP_URL").is_none());
    assert!(t["Parameters"].get("AppUrl").is_none());
    let one = Settings { binaries: vec![("b".into(), "my-b".into())], ..settings() };
    let t = json_of(&generate_with(&yaml, &one).unwrap());
    assert_eq!(t["Resources"]["AFunction"]["Metadata"]["BuildProperties"]["Binary"], "bindery-cron");
    assert_eq!(
        t["Resources"]["AFunction"]["Properties"]["Environment"]["Variables"]["BINDERY_APP_URL"],
        json!({"Ref": "AppUrl"})
    );
    assert_eq!(t["Resources"]["BFunction"]["Metadata"]["BuildProperties"]["Binary"], "my-b");
    let typo = Settings { binaries: vec![("c".into(), "x".into())], ..settings() };
    let errors = generate_with(&yaml, &typo).unwrap_err().to_string();
    assert_mentions(&errors, &["\"c\"", "not an input binding", "a, b"]);
}

#[test]
fn prebuilt_functions_are_the_directories_cargo_lambda_builds_and_name_no_build_method() {
    let yaml = [
        component("c", "bindings.cron", &[("schedule", "@daily")]),
        component("q", "bindings.aws.sqs", &[("queueName", "q"), ("direction", "input")]),
        component("w", "bindings.http", &[("direction", "input"), ("signatureScheme", "none")]),
    ]
    .join("---\n");
    let prebuilt = Settings { prebuilt: true, code_uri: "../..".into(), ..settings() };
    let t = json_of(&generate_with(&yaml, &prebuilt).unwrap());
    assert!(t["Globals"]["Function"].get("CodeUri").is_none(), "{}", t["Globals"]);
    for (id, binary) in [("CFunction", "bindery-cron"), ("QFunction", "bindery-sqs"), ("WFunction", "bindery-webhook")]
    {
        let function = &t["Resources"][id];
        assert_eq!(function["Properties"]["CodeUri"], format!("../../target/lambda/{binary}"));
        assert!(function.get("Metadata").is_none(), "sam build has nothing to build: {function}");
    }
    let here = Settings { prebuilt: true, binary: Some("my-app".into()), ..settings() };
    let t = json_of(&generate_with(&yaml, &here).unwrap());
    assert_eq!(t["Resources"]["QFunction"]["Properties"]["CodeUri"], "target/lambda/my-app");
}

#[test]
fn the_template_is_yaml_with_the_functions_defaults_in_globals() {
    let generated = generate(&component("c", "bindings.cron", &[("schedule", "*/5 * * * *")]));
    let yaml = generated.template.to_yaml();
    assert!(
        yaml.starts_with("AWSTemplateFormatVersion: \"2010-09-09\"\nTransform: AWS::Serverless-2016-10-31\n"),
        "{yaml}"
    );
    let t = json_of(&generated);
    let globals = &t["Globals"]["Function"];
    assert_eq!(globals["CodeUri"], ".", "the Cargo project sam build runs cargo lambda in");
    assert_eq!(globals["Runtime"], "provided.al2023");
    assert_eq!(globals["Architectures"], json!(["arm64"]));
    assert_eq!(globals["Layers"], json!([{"Ref": "ComponentsLayer"}]));
    assert_eq!(globals["Environment"]["Variables"]["BINDERY_COMPONENTS"], "/opt");
    assert_eq!(t["Resources"]["ComponentsLayer"]["Properties"]["ContentUri"], "components");
}

#[test]
fn each_function_logs_json_to_a_group_of_its_own_and_may_be_traced() {
    let yaml = [
        component("c", "bindings.cron", &[("schedule", "@daily")]),
        component("q", "bindings.aws.sqs", &[("direction", "input"), ("queueName", "orders")]),
    ]
    .join("---\n");
    let t = json_of(&generate(&yaml));
    let globals = &t["Globals"]["Function"];
    assert_eq!(globals["LoggingConfig"], json!({"LogFormat": "JSON", "ApplicationLogLevel": "INFO"}));
    assert!(globals.get("Tracing").is_none(), "tracing is an option: {globals}");
    for id in ["C", "Q"] {
        let function = &t["Resources"][format!("{id}Function")]["Properties"];
        assert_eq!(function["LoggingConfig"], json!({"LogGroup": {"Ref": format!("{id}LogGroup")}}));
        let group = &t["Resources"][format!("{id}LogGroup")];
        assert_eq!(group["Type"], "AWS::Logs::LogGroup");
        assert_eq!(group["Properties"]["RetentionInDays"], 30);
    }
    assert_eq!(
        t["Resources"]["QLogGroup"]["Properties"]["LogGroupName"],
        json!({"Fn::Sub": "/aws/lambda/${AWS::StackName}/q"})
    );

    let chosen = Settings { tracing: true, log_level: "DEBUG".into(), log_retention_days: 7, ..settings() };
    let t = json_of(&generate_with(&yaml, &chosen).unwrap());
    assert_eq!(t["Globals"]["Function"]["Tracing"], "Active");
    assert_eq!(t["Globals"]["Function"]["LoggingConfig"]["ApplicationLogLevel"], "DEBUG");
    assert_eq!(t["Resources"]["CLogGroup"]["Properties"]["RetentionInDays"], 7);
}

#[test]
fn every_dead_letter_queue_has_an_alarm_on_its_depth() {
    let yaml = [
        component("c", "bindings.cron", &[("schedule", "@daily")]),
        component("q", "bindings.aws.sqs", &[("direction", "input"), ("queueName", "orders")]),
        component("k", "bindings.aws.kinesis", &[("direction", "input"), ("streamName", "clicks")]),
    ]
    .join("---\n");
    let t = json_of(&generate(&yaml));
    let resources = t["Resources"].as_object().unwrap();
    let queues: Vec<&String> = resources
        .iter()
        .filter(|(id, r)| {
            r["Type"] == "AWS::SQS::Queue" && (id.ends_with("DeadLetterQueue") || id.ends_with("FailureQueue"))
        })
        .map(|(id, _)| id)
        .collect();
    assert_eq!(queues.len(), 3, "{queues:?}");
    for queue in queues {
        let alarm = &resources[&format!("{queue}DepthAlarm")];
        assert_eq!(alarm["Type"], "AWS::CloudWatch::Alarm");
        let properties = &alarm["Properties"];
        assert_eq!(properties["Namespace"], "AWS/SQS");
        assert_eq!(properties["MetricName"], "ApproximateNumberOfMessagesVisible");
        assert_eq!(
            properties["Dimensions"],
            json!([{"Name": "QueueName", "Value": {"Fn::GetAtt": [queue, "QueueName"]}}])
        );
        assert_eq!(
            (&properties["Threshold"], &properties["ComparisonOperator"]),
            (&json!(1), &json!("GreaterThanOrEqualToThreshold"))
        );
    }
    assert!(!resources.contains_key("QQueueDepthAlarm"), "the queue the function reads is not a dead-letter queue");
}

#[test]
fn a_deployment_setting_from_a_secret_is_refused() {
    let yaml = "apiVersion: dapr.io/v1alpha1\nkind: Component\nmetadata:\n  name: q\nspec:\n  type: bindings.aws.sqs\n  metadata:\n  - name: direction\n    value: input\n  - name: queueName\n    secretKeyRef:\n      name: QUEUE\n      key: QUEUE\n";
    assert_mentions(&refusal(yaml), &["\"q\"", "\"queueName\"", "comes from a secret", "plain value"]);
}

#[test]
fn a_sender_with_a_display_name_is_scoped_to_its_address() {
    let yaml = [
        component("c", "bindings.cron", &[("schedule", "@daily")]),
        component("mail", "bindings.aws.ses", &[("emailFrom", "Task API <tasks@example.net>")]),
    ]
    .join("---\n");
    let text = json_of(&generate(&yaml))["Resources"]["CFunction"]["Properties"]["Policies"].to_string();
    assert_mentions(&text, &["identity/tasks@example.net\"", "identity/example.net\""]);
}

#[test]
fn idempotent_input_bindings_get_their_table_with_a_ttl_and_three_calls_on_it() {
    let idempotent = |name: &str| {
        let queue = format!("{name}-queue");
        let items = [
            ("queueName", queue.as_str()),
            ("direction", "input"),
            ("idempotency", "dynamodb"),
            ("idempotencyTable", "seen"),
        ];
        component(name, "bindings.aws.sqs", &items)
    };
    let nightly = component(
        "nightly",
        "bindings.cron",
        &[("schedule", "@daily"), ("idempotency", "dynamodb"), ("idempotencyTable", "seen")],
    );
    let yaml = [idempotent("tasks"), idempotent("orders"), nightly].join("---\n");
    let generated = generate(&yaml);
    let t = json_of(&generated);
    let table = &t["Resources"]["SeenIdempotencyTable"]["Properties"];
    assert_eq!(table["TableName"], "seen");
    assert_eq!(table["KeySchema"], json!([{"AttributeName": "id", "KeyType": "HASH"}]));
    assert_eq!(table["TimeToLiveSpecification"], json!({"AttributeName": "expiration", "Enabled": true}));
    let tables = t["Resources"].as_object().unwrap().values().filter(|r| r["Type"] == "AWS::DynamoDB::Table").count();
    assert_eq!(tables, 1, "one table for the three bindings that name it");
    for function in ["TasksFunction", "OrdersFunction", "NightlyFunction"] {
        let statements = &t["Resources"][function]["Properties"]["Policies"][0]["Statement"];
        let on_table = statements
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["Resource"] == json!({"Fn::GetAtt": ["SeenIdempotencyTable", "Arn"]}));
        assert_eq!(on_table.unwrap()["Action"], json!(["dynamodb:PutItem", "dynamodb:GetItem", "dynamodb:DeleteItem"]));
    }

    let memory = component(
        "tasks",
        "bindings.aws.sqs",
        &[("queueName", "tasks"), ("direction", "input"), ("idempotency", "memory")],
    );
    let generated = generate(&memory);
    assert!(generated.notes.iter().any(|n| n.contains("each Lambda instance has its own")), "{:?}", generated.notes);
}
