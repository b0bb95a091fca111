//! `bindery dlq` against moto: an SQS binding's dead-letter queue, found
//! through its queue's RedrivePolicy, is listed without being consumed,
//! replayed back to the queue one message at a time (with `--max` and
//! `--dry-run`) or to the app through the binding's contract, and purged
//! only when told `--yes`. A target that refuses loses nothing.

use std::process::Output;

use aws_sdk_sqs::types::{MessageAttributeValue, QueueAttributeName};
use bindery_e2e::aws::{Emulator, EmulatorKind};
use bindery_e2e::{RecordingApp, Reply};

use crate::common::{ComponentsDir, cron_component, metadata_value};

/// A binding's queue with a dead-letter queue holding `bodies`.
struct Dead {
    emulator: Emulator,
    sqs: aws_sdk_sqs::Client,
    queue_url: String,
    dlq_url: String,
    components: ComponentsDir,
}

impl Dead {
    async fn new(bodies: &[&str]) -> Dead {
        let emulator = Emulator::from_env();
        let sqs = emulator.sqs().await;
        let name = emulator.unique("replayed");
        let dlq = sqs.create_queue().queue_name(format!("{name}-dlq")).send().await.unwrap();
        let dlq_url = dlq.queue_url.unwrap();
        let attributes = sqs
            .get_queue_attributes()
            .queue_url(&dlq_url)
            .attribute_names(QueueAttributeName::QueueArn)
            .send()
            .await
            .unwrap();
        let dlq_arn = attributes.attributes.unwrap()[&QueueAttributeName::QueueArn].clone();
        let policy = serde_json::json!({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": 5}).to_string();
        let queue =
            sqs.create_queue().queue_name(&name).attributes(QueueAttributeName::RedrivePolicy, policy).send().await;
        let queue_url = queue.unwrap().queue_url.unwrap();
        for body in bodies {
            let kind = MessageAttributeValue::builder().data_type("String").string_value("task").build().unwrap();
            sqs.send_message()
                .queue_url(&dlq_url)
                .message_body(*body)
                .message_attributes("kind", kind)
                .send()
                .await
                .unwrap();
        }
        let components = ComponentsDir::new();
        let items = [("queueName", name.as_str()), ("direction", "input")];
        components.write("tasks.yaml", &emulator.component("tasks", "bindings.aws.sqs", &items));
        Dead { emulator, sqs, queue_url, dlq_url, components }
    }

    async fn dlq_arn(&self) -> String {
        let attributes = self
            .sqs
            .get_queue_attributes()
            .queue_url(&self.dlq_url)
            .attribute_names(QueueAttributeName::QueueArn)
            .send()
            .await
            .unwrap();
        attributes.attributes.unwrap()[&QueueAttributeName::QueueArn].clone()
    }

    async fn dlq(&self, args: &[&str]) -> Output {
        let mut command = std::process::Command::new(bindery_e2e::debug_bin("bindery"));
        command.arg("dlq").arg(args[0]).args(["--components", &self.components.path_str()]).args(&args[1..]);
        tokio::task::spawn_blocking(move || command.output().expect("run bindery dlq")).await.unwrap()
    }

    /// The bodies on the binding's queue, received and deleted.
    async fn drain_queue(&self) -> Vec<(String, Option<String>)> {
        let mut found = Vec::new();
        loop {
            let received = self
                .sqs
                .receive_message()
                .queue_url(&self.queue_url)
                .max_number_of_messages(10)
                .message_attribute_names("All")
                .send()
                .await
                .unwrap();
            let messages = received.messages.unwrap_or_default();
            if messages.is_empty() {
                break;
            }
            for message in messages {
                let kind = message.message_attributes.as_ref().and_then(|a| a.get("kind")?.string_value.clone());
                found.push((message.body.clone().unwrap_or_default(), kind));
                let receipt = message.receipt_handle.unwrap();
                self.sqs.delete_message().queue_url(&self.queue_url).receipt_handle(receipt).send().await.unwrap();
            }
        }
        found.sort();
        found
    }
}

fn text(output: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr))
}

#[tokio::test]
async fn listed_without_being_consumed_then_moved_back_one_by_one_and_purged_when_told() {
    let dead = Dead::new(&["task one", "task two", "task three"]).await;

    let listed = dead.dlq(&["list", "tasks"]).await;
    let shown = text(&listed);
    assert!(listed.status.success(), "{shown}");
    assert!(shown.contains("tasks: 3 message(s) in ") && shown.contains(&dead.dlq_url), "{shown}");
    for body in ["task one", "task two", "task three"] {
        assert!(shown.contains(&format!("{body:?}  [kind=task]")), "{body}: {shown}");
    }
    assert_eq!(dead.emulator.queue_counts(&dead.dlq_url).await, (3, 0), "list consumed nothing");

    let dry = dead.dlq(&["replay", "tasks", "--max", "2", "--dry-run"]).await;
    assert!(
        dry.status.success() && text(&dry).contains("would replay") && text(&dry).contains("dry run"),
        "{}",
        text(&dry)
    );
    assert_eq!(dead.emulator.queue_counts(&dead.dlq_url).await, (3, 0), "a dry run changes nothing");

    let two = dead.dlq(&["replay", "tasks", "--max", "2"]).await;
    assert!(two.status.success() && text(&two).contains("2 message(s) replayed to"), "{}", text(&two));
    assert_eq!(dead.emulator.queue_counts(&dead.dlq_url).await, (1, 0));
    // Without --max, SQS's own message move task where the emulator has one.
    let rest = dead.dlq(&["replay", "tasks"]).await;
    let how = match dead.emulator.kind {
        EmulatorKind::LocalStack => "by SQS's message move task",
        EmulatorKind::Moto => "no message move task",
    };
    assert!(rest.status.success() && text(&rest).contains(how), "{}", text(&rest));
    assert!(text(&rest).contains("1 message(s) replayed"), "{}", text(&rest));
    assert_eq!(dead.emulator.queue_counts(&dead.dlq_url).await, (0, 0), "the dead-letter queue is empty");
    // Each message once, with its attributes.
    let task = Some("task".to_owned());
    let expected: Vec<(String, Option<String>)> =
        ["task one", "task three", "task two"].iter().map(|b| (b.to_string(), task.clone())).collect();
    assert_eq!(dead.drain_queue().await, expected);

    dead.sqs.send_message().queue_url(&dead.dlq_url).message_body("poison").send().await.unwrap();
    let refused = dead.dlq(&["purge", "tasks"]).await;
    assert_eq!(refused.status.code(), Some(2));
    assert!(text(&refused).contains("add --yes"), "{}", text(&refused));
    assert_eq!(dead.emulator.queue_counts(&dead.dlq_url).await, (1, 0));
    let purged = dead.dlq(&["purge", "tasks", "--yes"]).await;
    assert!(purged.status.success(), "{}", text(&purged));
    assert_eq!(dead.emulator.queue_counts(&dead.dlq_url).await, (0, 0));
}

#[tokio::test]
async fn replayed_to_the_app_each_once_and_a_refusing_app_loses_nothing() {
    let dead = Dead::new(&["first", "second"]).await;
    let app = RecordingApp::start().await;
    app.set_reply(|_| Reply::Status(500));
    let down = dead.dlq(&["replay", "tasks", "--to-app", "--app-url", &app.url()]).await;
    assert_eq!(down.status.code(), Some(1), "{}", text(&down));
    assert!(text(&down).contains("stays in the dead-letter queue"), "{}", text(&down));
    assert_eq!(dead.emulator.queue_counts(&dead.dlq_url).await, (2, 0), "nothing lost, nothing left hidden");

    app.set_reply(|_| Reply::Status(200));
    let replayed = dead.dlq(&["replay", "tasks", "--to-app", "--app-url", &app.url()]).await;
    assert!(replayed.status.success(), "{}", text(&replayed));
    assert_eq!(dead.emulator.queue_counts(&dead.dlq_url).await, (0, 0));
    let requests = app.requests();
    // The refused one, then each message once.
    assert_eq!(requests.len(), 3, "{requests:?}");
    let mut bodies: Vec<String> = requests[1..].iter().map(|r| String::from_utf8_lossy(&r.body).into_owned()).collect();
    bodies.sort();
    assert_eq!(bodies, ["first", "second"]);
    for request in &requests[1..] {
        assert_eq!(request.path, "/tasks");
        assert!(metadata_value(request, "messageId").is_some());
        assert_eq!(metadata_value(request, "attr-kind").as_deref(), Some("task"));
    }
    assert!(dead.drain_queue().await.is_empty(), "replayed to the app, not to the queue");
}

#[tokio::test]
async fn a_queue_without_a_dead_letter_queue_or_a_binding_without_a_queue_is_named() {
    let emulator = Emulator::from_env();
    let name = emulator.unique("no-dlq");
    emulator.sqs().await.create_queue().queue_name(&name).send().await.unwrap();
    let components = ComponentsDir::new();
    let items = [("queueName", name.as_str()), ("direction", "input")];
    components.write("tasks.yaml", &emulator.component("tasks", "bindings.aws.sqs", &items));
    components.write("nightly.yaml", &cron_component("nightly", "@daily", &[]));
    let run = |binding: &'static str| {
        let mut command = std::process::Command::new(bindery_e2e::debug_bin("bindery"));
        command.args(["dlq", "list", "--components", &components.path_str(), binding]);
        tokio::task::spawn_blocking(move || command.output().unwrap())
    };
    let output = run("tasks").await.unwrap();
    assert_eq!(output.status.code(), Some(1));
    assert!(text(&output).contains("has no dead-letter queue (no RedrivePolicy)"), "{}", text(&output));
    let output = run("nightly").await.unwrap();
    assert!(text(&output).contains("--dlq-url (the stack's output NightlyDeadLetterQueue)"), "{}", text(&output));
    let output = run("nobody").await.unwrap();
    assert!(text(&output).contains("no component \"nobody\""), "{}", text(&output));
}

/// EventBridge Scheduler puts a failed schedule's target input in its
/// dead-letter queue; replayed to the app, it is that schedule's
/// invocation, as the cron function delivers it. The queue is named with
/// `--dlq-url`, and the emulator is found through the default chain.
#[tokio::test]
async fn a_cron_binding_s_failed_schedule_is_replayed_to_the_app_as_its_invocation() {
    let emulator = Emulator::from_env();
    let sqs = emulator.sqs().await;
    let dlq_url =
        sqs.create_queue().queue_name(emulator.unique("nightly-dlq")).send().await.unwrap().queue_url.unwrap();
    let input = serde_json::json!({
        "binding": "nightly",
        "scheduledTime": "2026-12-05T03:00:00Z",
        "attempt": "186",
        "scheduleArn": "arn:aws:scheduler:us-east-1:123456789012:schedule/default/bindery-nightly",
        "executionId": "4f6b5c3a-exec",
    });
    let code = MessageAttributeValue::builder().data_type("String").string_value("Lambda.Unknown").build().unwrap();
    let send = sqs.send_message().queue_url(&dlq_url).message_body(input.to_string());
    send.message_attributes("ERROR_CODE", code).send().await.unwrap();
    let components = ComponentsDir::with("nightly.yaml", &cron_component("nightly", "@daily", &[]));
    let app = RecordingApp::start().await;
    let home = tempfile::tempdir().unwrap();
    let env = emulator.default_chain_env(home.path());
    let run = |args: &[&str]| {
        let mut command = std::process::Command::new(bindery_e2e::debug_bin("bindery"));
        command
            .env_clear()
            .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
            .envs(std::env::var_os("PATH").map(|p| ("PATH", p)));
        command.args(["dlq", "replay", "--components", &components.path_str(), "nightly", "--dlq-url", &dlq_url]);
        command.args(args);
        tokio::task::spawn_blocking(move || command.output().unwrap())
    };

    let to_queue = run(&[]).await.unwrap();
    assert!(
        text(&to_queue).contains("no queue to move its messages back to: replay them with --to-app"),
        "{}",
        text(&to_queue)
    );
    let replayed = run(&["--to-app", "--app-url", &app.url()]).await.unwrap();
    assert!(replayed.status.success(), "{}", text(&replayed));
    let requests = app.requests();
    assert_eq!(requests.len(), 1, "{requests:?}");
    let request = &requests[0];
    assert_eq!((request.path.as_str(), request.body.len()), ("/nightly", 0));
    assert_eq!(metadata_value(request, "scheduledTime").as_deref(), Some("2026-12-05T03:00:00Z"));
    assert_eq!(metadata_value(request, "attempt").as_deref(), Some("186"));
    assert_eq!(metadata_value(request, "executionId").as_deref(), Some("4f6b5c3a-exec"));
    assert!(metadata_value(request, "readTimeUTC").is_some());
    assert_eq!(emulator.queue_counts(&dlq_url).await, (0, 0));
}

/// Lambda's record of a failed asynchronous invocation of `function`,
/// whose event was `payload`: what the cron, S3 and SNS functions' on-failure
/// destination receives.
fn invocation_record(function: &str, payload: serde_json::Value) -> String {
    let fixture = concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/fixtures/events/lambda-async-failure.json");
    let mut record: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(fixture).unwrap()).unwrap();
    record["requestContext"]["functionArn"] =
        serde_json::json!(format!("arn:aws:lambda:us-east-1:123456789012:function:{function}:$LATEST"));
    record["requestPayload"] = payload;
    record.to_string()
}

/// The functions invoked asynchronously fail into their queue as Lambda's
/// invocation record: replayed to the app, its `requestPayload` is
/// delivered as the function would (the schedule's invocation; each S3
/// record), and a refused one stays in the queue.
#[tokio::test]
async fn failed_invocations_of_the_cron_and_s3_functions_are_replayed_to_the_app() {
    let emulator = Emulator::from_env();
    let sqs = emulator.sqs().await;
    let queue = |name: &str| {
        let create = sqs.create_queue().queue_name(emulator.unique(name));
        async move { create.send().await.unwrap().queue_url.unwrap() }
    };
    let (nightly_dlq, uploads_dlq) = (queue("nightly-dlq").await, queue("uploads-dlq").await);
    let input = serde_json::json!({"scheduledTime": "2026-12-05T03:00:00Z", "attempt": "1"});
    let send = |url: &str, body: String| sqs.send_message().queue_url(url).message_body(body).send();
    send(&nightly_dlq, invocation_record("nightly", input)).await.unwrap();
    let fixture = format!("{}/../shared/fixtures/events/s3-put.json", env!("CARGO_MANIFEST_DIR"));
    let mut event: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(fixture).unwrap()).unwrap();
    let first = event["Records"][0].clone();
    let mut second = first.clone();
    second["s3"]["object"]["key"] = serde_json::json!("second%2Fkey");
    event["Records"] = serde_json::json!([first, second]);
    send(&uploads_dlq, invocation_record("uploads", event)).await.unwrap();

    let components = ComponentsDir::with("nightly.yaml", &cron_component("nightly", "@daily", &[]));
    let uploads = [("bucket", "example-bucket"), ("direction", "input")];
    components.write("uploads.yaml", &emulator.component("uploads", "bindings.aws.s3", &uploads));
    let app = RecordingApp::start().await;
    let home = tempfile::tempdir().unwrap();
    let env = emulator.default_chain_env(home.path());
    let replay = |binding: &str, dlq: &str| {
        let mut command = std::process::Command::new(bindery_e2e::debug_bin("bindery"));
        command.env_clear().envs(env.iter().map(|(k, v)| (*k, v.as_str())));
        command.args(["dlq", "replay", "--components", &components.path_str(), binding, "--dlq-url", dlq]);
        command.args(["--to-app", "--app-url", &app.url()]);
        tokio::task::spawn_blocking(move || command.output().unwrap())
    };

    let replayed = replay("nightly", &nightly_dlq).await.unwrap();
    assert!(replayed.status.success(), "{}", text(&replayed));
    let requests = app.requests();
    assert_eq!((requests.len(), requests[0].path.as_str()), (1, "/nightly"), "{requests:?}");
    assert_eq!(metadata_value(&requests[0], "scheduledTime").as_deref(), Some("2026-12-05T03:00:00Z"));
    assert_eq!(emulator.queue_counts(&nightly_dlq).await, (0, 0));

    // The app refuses the second record: the message stays, to be replayed whole.
    app.set_reply(|r| if r.header("key") == Some("second/key") { Reply::Status(500) } else { Reply::Status(200) });
    let refused = replay("uploads", &uploads_dlq).await.unwrap();
    assert!(!refused.status.success(), "{}", text(&refused));
    assert_eq!(emulator.queue_counts(&uploads_dlq).await, (1, 0), "visible again at once");
    app.set_reply(|_| Reply::Status(200));
    let replayed = replay("uploads", &uploads_dlq).await.unwrap();
    assert!(replayed.status.success(), "{}", text(&replayed));
    let keys: Vec<_> = app.requests()[1..].iter().map(|r| metadata_value(r, "key").unwrap_or_default()).collect();
    assert_eq!(keys, ["test/key", "second/key", "test/key", "second/key"]);
    assert_eq!(emulator.queue_counts(&uploads_dlq).await, (0, 0));
}

/// A Kinesis binding's failure queue holds Lambda's record of each batch
/// that ran out of retries: its shard and sequence-number range. Replayed
/// to the app, the range's records are read again from the stream and
/// delivered in order; without `--to-app` there is no queue to move them to.
#[tokio::test]
async fn a_stream_s_failed_batch_is_read_again_from_the_stream_and_replayed_in_order() {
    let emulator = Emulator::from_env();
    let stream = emulator.unique("replayed-clicks");
    emulator.boto3(serde_json::json!({"op": "kinesis_stream", "name": stream, "shards": 1})).await;
    let records: Vec<_> = ["r1", "r2", "r3", "r4"].iter().map(|d| serde_json::json!({"key": "k", "data": d})).collect();
    let placed = emulator.boto3(serde_json::json!({"op": "kinesis_put", "stream": stream, "records": records})).await;
    let sequence = |i: usize| placed[i]["sequence_number"].as_str().unwrap().to_owned();
    let shard = placed[0]["shard_id"].as_str().unwrap().to_owned();
    // The batch of r2 and r3 failed.
    let failure = serde_json::json!({
        "requestContext": {"requestId": "c9b8fa9f", "functionArn": "arn:aws:lambda:us-east-1:123456789012:function:clicks",
                           "condition": "RetryAttemptsExhausted", "approximateInvokeCount": 3},
        "responseContext": {"statusCode": 200, "executedVersion": "$LATEST", "functionError": "Unhandled"},
        "version": "1.0",
        "timestamp": "2026-12-05T03:00:06.021Z",
        "KinesisBatchInfo": {"shardId": shard, "startSequenceNumber": sequence(1), "endSequenceNumber": sequence(2),
                             "batchSize": 2, "streamArn": format!("arn:aws:kinesis:us-east-1:123456789012:stream/{stream}")}
    });
    let sqs = emulator.sqs().await;
    let queue = sqs.create_queue().queue_name(emulator.unique("clicks-failures")).send().await.unwrap();
    let failures = queue.queue_url.unwrap();
    sqs.send_message().queue_url(&failures).message_body(failure.to_string()).send().await.unwrap();
    let components = ComponentsDir::new();
    let items = [("streamName", stream.as_str()), ("direction", "input")];
    components.write("clicks.yaml", &emulator.component("clicks", "bindings.aws.kinesis", &items));
    let app = RecordingApp::start().await;
    let replay = |args: &[&str]| {
        let mut command = std::process::Command::new(bindery_e2e::debug_bin("bindery"));
        command.args(["dlq", "replay", "--components", &components.path_str(), "clicks", "--dlq-url", &failures]);
        command.args(args);
        tokio::task::spawn_blocking(move || command.output().unwrap())
    };

    let moved = replay(&[]).await.unwrap();
    assert!(!moved.status.success() && text(&moved).contains("replay them with --to-app"), "{}", text(&moved));
    let replayed = replay(&["--to-app", "--app-url", &app.url()]).await.unwrap();
    assert!(replayed.status.success(), "{}", text(&replayed));
    let bodies: Vec<_> = app.requests().iter().map(|r| String::from_utf8_lossy(&r.body).into_owned()).collect();
    assert_eq!(bodies, ["r2", "r3"]);
    assert_eq!(metadata_value(&app.requests()[0], "sequenceNumber"), Some(sequence(1)));
    assert_eq!(emulator.queue_counts(&failures).await, (0, 0));

    // A batch whose last record the stream does not hold is not done when
    // the shard runs out: the message stays, for a later look.
    let mut unreachable = failure.clone();
    unreachable["KinesisBatchInfo"]["endSequenceNumber"] = serde_json::json!(format!("{}0", sequence(3)));
    sqs.send_message().queue_url(&failures).message_body(unreachable.to_string()).send().await.unwrap();
    let short = replay(&["--to-app", "--app-url", &app.url()]).await.unwrap();
    assert!(!short.status.success() && text(&short).contains("was not reached"), "{}", text(&short));
    assert_eq!(emulator.queue_counts(&failures).await, (1, 0), "left in the queue, visible");
}

/// The whole way: `bindery run` polls a queue whose app refuses every
/// message; after `maxReceiveCount` receives the queue moves them to its
/// dead-letter queue. Replayed to the app while it is down, nothing is lost;
/// once it is up, each message reaches it once and the dead-letter queue is
/// left empty.
#[tokio::test]
async fn messages_a_failing_app_sent_to_the_dead_letter_queue_are_replayed_each_once() {
    let dead = Dead::new(&[]).await;
    dead.sqs
        .set_queue_attributes()
        .queue_url(&dead.queue_url)
        .attributes(QueueAttributeName::VisibilityTimeout, "1")
        .attributes(
            QueueAttributeName::RedrivePolicy,
            serde_json::json!({"deadLetterTargetArn": dead.dlq_arn().await, "maxReceiveCount": 2}).to_string(),
        )
        .send()
        .await
        .unwrap();
    for body in ["one", "two", "three"] {
        dead.sqs.send_message().queue_url(&dead.queue_url).message_body(body).send().await.unwrap();
    }
    let failing = RecordingApp::start().await;
    failing.set_reply(|_| Reply::Status(500));
    let (bindery, _) = crate::common::bindery_run(&dead.components, &failing.url(), &[], "tasks: polling").await;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while dead.emulator.queue_counts(&dead.dlq_url).await.0 < 3 {
        assert!(std::time::Instant::now() < deadline, "not dead-lettered in 60 s\n{}", bindery.logs());
        tokio::time::sleep(std::time::Duration::from_millis(250)).await;
    }
    drop(bindery);
    assert!(failing.requests().len() >= 6, "each refused twice: {}", failing.requests().len());

    let nobody = format!("http://127.0.0.1:{}", bindery_e2e::unused_port());
    let down = dead.dlq(&["replay", "tasks", "--to-app", "--app-url", &nobody]).await;
    assert_eq!(down.status.code(), Some(1), "{}", text(&down));
    assert_eq!(dead.emulator.queue_counts(&dead.dlq_url).await, (3, 0), "the app down: nothing lost");

    let app = RecordingApp::start().await;
    let replayed = dead.dlq(&["replay", "tasks", "--to-app", "--app-url", &app.url()]).await;
    assert!(replayed.status.success(), "{}", text(&replayed));
    let mut bodies: Vec<String> =
        app.requests().iter().map(|r| String::from_utf8_lossy(&r.body).into_owned()).collect();
    bodies.sort();
    assert_eq!(bodies, ["one", "three", "two"], "each once");
    assert_eq!(dead.emulator.queue_counts(&dead.dlq_url).await, (0, 0));
}

/// `bindery dlq replay` killed while the app holds a message: the messages
/// it replayed before are gone from the dead-letter queue, the one in
/// flight and those after it are still there (hidden for the rest of their
/// visibility timeout). Nothing is lost; only the one in flight reaches the
/// app twice, when it is replayed again.
#[tokio::test]
async fn a_replay_killed_mid_run_loses_nothing_and_leaves_the_message_in_flight() {
    let dead = Dead::new(&["one", "two", "three"]).await;
    let pid = std::sync::Arc::new(std::sync::atomic::AtomicU32::new(0));
    let app = RecordingApp::start().await;
    let victim = pid.clone();
    let seen = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    app.set_reply(move |_| {
        // The second message: the replay dies before the app answers it.
        if seen.fetch_add(1, std::sync::atomic::Ordering::SeqCst) == 1 {
            // Never `kill -9 0` (the whole process group): wait for the pid.
            let pid = loop {
                match victim.load(std::sync::atomic::Ordering::SeqCst) {
                    0 => std::thread::sleep(std::time::Duration::from_millis(1)),
                    pid => break pid,
                }
            };
            std::process::Command::new("kill").args(["-9", &pid.to_string()]).status().unwrap();
        }
        Reply::Status(200)
    });
    let mut command = std::process::Command::new(bindery_e2e::debug_bin("bindery"));
    command.args(["dlq", "replay", "--components", &dead.components.path_str(), "tasks", "--to-app"]);
    command.args(["--app-url", &app.url()]).stdout(std::process::Stdio::null()).stderr(std::process::Stdio::null());
    let mut child = command.spawn().unwrap();
    pid.store(child.id(), std::sync::atomic::Ordering::SeqCst);
    let status = tokio::task::spawn_blocking(move || child.wait().unwrap()).await.unwrap();

    assert!(!status.success(), "killed: {status}");
    assert_eq!(app.requests().len(), 2, "the first replayed, the second in flight");
    let (visible, hidden) = dead.emulator.queue_counts(&dead.dlq_url).await;
    assert_eq!(visible + hidden, 2, "the first deleted once the app took it; the other two kept");
}
