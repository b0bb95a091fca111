//! Fault injection through the real binaries: the app resets connections,
//! cuts its answers short, answers 5xx to everything, hangs past the
//! deadline or is killed in the middle of a batch; the AWS emulator goes down
//! under an output binding. Each test asserts exactly what is reported
//! failed, and that delivering it again after the recovery succeeds.

use std::collections::BTreeSet;
use std::path::Path;
use std::time::Duration;

use bindery_e2e::aws::{Emulator, EmulatorKind, OwnMoto};
use bindery_e2e::{Fault, FaultyApp, FunctionProcess, InvokeOptions, unused_port};
use serde_json::{Value, json};

use crate::common::{ComponentsDir, SECOND, Sidecar, bindery_sidecar, http_post, sqs_record, start_sqs};

const RECORDING_APP: &str = include_str!("common/recording_app.py");

fn batch(ids: &[&str]) -> Value {
    json!({ "Records": ids.iter().map(|id| sqs_record(id, &format!("body of {id}"))).collect::<Vec<_>>() })
}

/// The ids in a partial-batch response; panics if it is not one.
fn failed(response: &Value) -> BTreeSet<String> {
    let list = response["batchItemFailures"].as_array().unwrap_or_else(|| panic!("not a batch response: {response}"));
    list.iter().map(|f| f["itemIdentifier"].as_str().unwrap().to_owned()).collect()
}

fn set(ids: &[&str]) -> BTreeSet<String> {
    ids.iter().map(|id| id.to_string()).collect()
}

#[tokio::test]
async fn each_transport_fault_is_exactly_a_batch_item_failure_and_the_redelivery_is_acked() {
    let faults = [
        ("ok-1", Fault::Answer(200)),
        ("reset-mid-request", Fault::ResetMidRequest),
        ("ok-2", Fault::Answer(204)),
        ("truncated-2xx", Fault::TruncatedOk),
        ("answers-503", Fault::Answer(503)),
        ("reset-mid-response", Fault::ResetMidResponse),
        ("past-the-deadline", Fault::Hang),
        ("ok-3", Fault::Answer(200)),
        // A 2xx counts only when its body arrives whole, however large.
        ("reset-after-1.5-of-2-MiB", Fault::ResetMidLargeResponse),
        ("whole-3-MiB-2xx", Fault::LargeOk),
    ];
    let app =
        FaultyApp::start(move |id| faults.iter().find(|(f, _)| *f == id).map_or(Fault::Answer(200), |f| f.1)).await;
    let f = start_sqs(&app.url(), &[]).await;
    let ids: Vec<&str> = faults.iter().map(|(id, _)| *id).collect();
    let opts = || InvokeOptions { deadline: 3 * SECOND, ..InvokeOptions::default() };

    let response = f.invoke(&batch(&ids), opts()).await.response();

    let broken = [
        "reset-mid-request",
        "truncated-2xx",
        "answers-503",
        "reset-mid-response",
        "past-the-deadline",
        "reset-after-1.5-of-2-MiB",
    ];
    assert_eq!(failed(&response), set(&broken), "{}", f.function.logs());
    let acknowledged: BTreeSet<String> =
        app.handled().iter().filter(|h| h.acknowledged()).map(|h| h.message_id.clone()).collect();
    assert_eq!(
        acknowledged,
        set(&["ok-1", "ok-2", "ok-3", "whole-3-MiB-2xx"]),
        "what the app acknowledged is what was acked"
    );

    // The app recovers; SQS delivers the failed records again.
    app.set_rule(|_| Fault::Answer(200));
    let response = f.invoke(&batch(&broken), opts()).await.response();
    assert_eq!(failed(&response), BTreeSet::new());
    let acknowledged: BTreeSet<String> =
        app.handled().iter().filter(|h| h.acknowledged()).map(|h| h.message_id.clone()).collect();
    assert_eq!(acknowledged, set(&ids), "every record acknowledged by the app in the end");
}

#[tokio::test]
async fn a_5xx_storm_fails_every_record_of_every_batch_and_the_redeliveries_are_acked() {
    let app = FaultyApp::start(|_| Fault::Answer(503)).await;
    let f = start_sqs(&app.url(), &[]).await;
    let batches: Vec<Vec<String>> =
        (0..5).map(|b| (0..100).map(|r| format!("storm-{b}-{r}")).collect::<Vec<_>>()).collect();

    for ids in &batches {
        let ids: Vec<&str> = ids.iter().map(String::as_str).collect();
        let response = f.invoke(&batch(&ids), InvokeOptions::default()).await.response();
        assert_eq!(failed(&response), set(&ids));
    }
    assert_eq!(app.handled().len(), 500, "each record delivered once per batch, no retry storm from bindery");

    app.set_rule(|_| Fault::Answer(200));
    for ids in &batches {
        let ids: Vec<&str> = ids.iter().map(String::as_str).collect();
        let response = f.invoke(&batch(&ids), InvokeOptions::default()).await.response();
        assert_eq!(failed(&response), BTreeSet::new());
    }
    assert_eq!(app.handled().iter().filter(|h| h.acknowledged()).count(), 500);
}

/// The Python app as a process of its own, so that it can be killed.
struct PythonApp {
    dir: tempfile::TempDir,
    process: FunctionProcess,
}

impl PythonApp {
    async fn start(port: u16, post_delay: &str) -> PythonApp {
        let dir = tempfile::tempdir().unwrap();
        let script = dir.path().join("app.py");
        std::fs::write(&script, RECORDING_APP).unwrap();
        let file = |name: &str| dir.path().join(name).display().to_string();
        let env = [
            ("PORT", port.to_string()),
            ("APP_RECORD", file("requests.jsonl")),
            ("APP_PID_FILE", file("app.pid")),
            ("APP_POST_DELAY", post_delay.to_owned()),
        ];
        let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let process = FunctionProcess::command(Path::new("python3"), &[&script.display().to_string()], &env);
        for _ in 0..100 {
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return PythonApp { dir, process };
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("the Python app did not listen within 5 s: {}", process.logs());
    }

    /// The `messageid` of every POST the app recorded (before it answered).
    fn received(&self) -> Vec<String> {
        let text = std::fs::read_to_string(self.dir.path().join("requests.jsonl")).unwrap_or_default();
        let posts = text.lines().map(|line| serde_json::from_str::<Value>(line).unwrap());
        posts
            .filter(|r| r["method"] == "POST")
            .map(|r| r["headers"]["messageid"].as_str().unwrap().to_owned())
            .collect()
    }

    /// SIGKILL: no answer to anything in flight, connections reset.
    fn kill(&mut self) {
        self.process.kill();
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_app_killed_in_the_middle_of_a_batch_loses_nothing() {
    let port = unused_port();
    let mut app = PythonApp::start(port, "0.2").await;
    let url = format!("http://127.0.0.1:{port}");
    let f = start_sqs(&url, &[("BINDERY_SQS_CONCURRENCY", "2")]).await;
    let ids: Vec<String> = (0..20).map(|i| format!("record-{i:02}")).collect();
    let all: Vec<&str> = ids.iter().map(String::as_str).collect();

    let invocation = f.api.invoke(batch(&all).to_string(), InvokeOptions::default());
    let kill = async {
        while app.received().len() < 6 {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        app.kill();
    };
    let (outcome, ()) = tokio::join!(invocation, kill);
    let received = app.received();
    let failures = failed(&outcome.response());

    let acked: BTreeSet<String> = all.iter().map(|id| id.to_string()).filter(|id| !failures.contains(id)).collect();
    let received: BTreeSet<String> = received.into_iter().collect();
    assert!(acked.is_subset(&received), "acked {acked:?} but the app only received {received:?}");
    assert!(!acked.is_empty() && failures.len() >= 20 - received.len(), "acked {acked:?}, failed {failures:?}");
    assert!(
        failures.iter().all(|id| !acked.contains(id)) && acked.len() + failures.len() == 20,
        "every record exactly once: acked {acked:?}, failed {failures:?}"
    );

    // The app is restarted on its port; SQS delivers the failed records again.
    let app = PythonApp::start(port, "0").await;
    let again: Vec<&str> = failures.iter().map(String::as_str).collect();
    let response = f.invoke(&batch(&again), InvokeOptions::default()).await.response();
    assert_eq!(failed(&response), BTreeSet::new(), "{}", f.function.logs());
    assert_eq!(app.received().into_iter().collect::<BTreeSet<_>>(), failures);
}

async fn invoke(http: u16, binding: &str, operation: &str, data: &str, key: &str) -> (u16, String) {
    let body = json!({"operation": operation, "data": data, "metadata": {"key": key}}).to_string();
    http_post(&format!("http://127.0.0.1:{http}/v1.0/bindings/{binding}"), &[], &body).await
}

#[tokio::test(flavor = "multi_thread")]
async fn the_emulator_down_under_an_output_binding_fails_the_call_and_it_succeeds_once_back() {
    let mut own = OwnMoto::start();
    let moto = Emulator { endpoint: own.endpoint.clone(), kind: EmulatorKind::Moto };
    let (bucket, queue) = ("fault-objects", "fault-outbox");
    let create = || async {
        moto.s3().await.create_bucket().bucket(bucket).send().await.unwrap();
        moto.sqs().await.create_queue().queue_name(queue).send().await.unwrap();
    };
    create().await;
    let dir = ComponentsDir::new();
    let objects = [("bucket", bucket), ("forcePathStyle", "true")];
    dir.write("objects.yaml", &moto.component("objects", "bindings.aws.s3", &objects));
    dir.write("outbox.yaml", &moto.component("outbox", "bindings.aws.sqs", &[("queueName", queue)]));
    let Sidecar { process: sidecar, http_port: http, .. } = bindery_sidecar(&dir, &[]).await;
    assert_eq!(invoke(http, "objects", "create", "before", "before.txt").await.0, 200, "{}", sidecar.logs());
    assert_eq!(invoke(http, "outbox", "create", "before", "").await.0, 200, "{}", sidecar.logs());

    own.kill();
    for (binding, key) in [("objects", "during.txt"), ("outbox", "")] {
        let (status, body) = invoke(http, binding, "create", "during", key).await;
        let error: Value = serde_json::from_str(&body).unwrap_or_else(|_| panic!("{binding}: {body}"));
        assert_eq!(
            (status, error["errorCode"].as_str()),
            (500, Some("ERR_INVOKE_OUTPUT_BINDING")),
            "{binding}: {body}"
        );
        let message = error["message"].as_str().unwrap();
        assert!(message.starts_with(&format!("error invoking output binding {binding}: ")), "{message}");
    }

    // The emulator comes back on the same address (empty: moto keeps nothing).
    let _back = OwnMoto::start_on(own.port);
    create().await;
    assert_eq!(invoke(http, "objects", "create", "after", "after.txt").await.0, 200, "{}", sidecar.logs());
    assert_eq!(invoke(http, "outbox", "create", "after", "").await.0, 200, "{}", sidecar.logs());

    let s3 = moto.s3().await;
    let keys: Vec<String> = s3
        .list_objects_v2()
        .bucket(bucket)
        .send()
        .await
        .unwrap()
        .contents()
        .iter()
        .filter_map(|o| o.key().map(str::to_owned))
        .collect();
    assert_eq!(keys, ["after.txt"], "the failed call wrote nothing, the retried one did");
    let queue_url = moto.sqs().await.get_queue_url().queue_name(queue).send().await.unwrap().queue_url.unwrap();
    let received =
        moto.sqs().await.receive_message().queue_url(queue_url).max_number_of_messages(10).send().await.unwrap();
    let bodies: Vec<&str> = received.messages().iter().filter_map(|m| m.body()).collect();
    assert_eq!(bodies, ["\"after\""], "the message sent after the recovery arrived");
}
