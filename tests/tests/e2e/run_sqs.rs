//! `bindery run`'s SQS poller, on moto and on LocalStack (`scripts/test`
//! runs this module against both). Messages sent by boto3, as an app or a
//! script beside bindery sends them, reach the app with their id and
//! attributes, and only those it acknowledges are deleted. And on queues
//! whose visibility timeout is shorter than a delivery may take (0, 1 and
//! 2 s; SQS allows 0 to 43200): every message reaches the app, acknowledged
//! ones are deleted, refused ones come back after the visibility timeout,
//! and a message the app takes longer than the visibility timeout to answer
//! stays hidden from other consumers meanwhile. Each of these runs once per
//! timeout, concurrently (a queue each).

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use aws_sdk_sqs::types::QueueAttributeName;
use bindery_e2e::aws::{self, Emulator, moto_python};
use bindery_e2e::{FunctionProcess, Recorded, RecordingApp, Reply, python};
use futures_util::future::join_all;

use crate::common::{ComponentsDir, SECOND, bindery_run, metadata_value};

/// The visibility timeouts (seconds) the tests run with: 2 s and less left
/// `bindery run` no time at all to deliver.
const SHORT_VISIBILITIES: [u32; 3] = [0, 1, 2];

/// How long the app takes to answer, as real apps take a moment (an instant
/// answer can beat a batch deadline of "now").
const APP_TIME: Duration = Duration::from_millis(200);

/// How long the slow app takes to answer: longer than any of those timeouts.
const SLOW_ANSWER: Duration = Duration::from_secs(5);
/// How long another consumer polls the queue while the slow app has the
/// message: past each of those timeouts, and ending before the app answers.
const OTHER_CONSUMER_POLLS: Duration = Duration::from_secs(4);

/// Runs `test` once per short visibility timeout, all at once.
async fn for_each_short_visibility<F: Future<Output = ()>>(test: impl Fn(u32) -> F) {
    join_all(SHORT_VISIBILITIES.map(test)).await;
}

/// A queue of its own with `visibility` seconds of visibility timeout,
/// polled by `bindery run` for a recording app.
struct Polled {
    visibility: u32,
    emulator: Emulator,
    sqs: aws_sdk_sqs::Client,
    queue_url: String,
    app: RecordingApp,
    bindery: FunctionProcess,
    /// Held, not read: `bindery run` reads its components from it.
    _components: ComponentsDir,
}

impl Polled {
    async fn start(visibility: u32, reply: impl Fn(&Recorded) -> Reply + Send + Sync + 'static) -> Polled {
        let emulator = Emulator::from_env();
        let sqs = emulator.sqs().await;
        let queue = emulator.unique(&format!("run-visibility-{visibility}"));
        let created = sqs
            .create_queue()
            .queue_name(&queue)
            .attributes(QueueAttributeName::VisibilityTimeout, visibility.to_string())
            .send()
            .await
            .unwrap_or_else(|e| panic!("create a queue with a {visibility} s visibility timeout: {e:?}"));
        let app = RecordingApp::start().await;
        app.set_reply(reply);
        let components = ComponentsDir::new();
        let items = [("queueName", queue.as_str()), ("direction", "input")];
        components.write("tasks.yaml", &emulator.component("tasks", "bindings.aws.sqs", &items));
        let (bindery, _) = bindery_run(&components, &app.url(), &[], "tasks: polling SQS").await;
        let queue_url = created.queue_url.unwrap();
        Polled { visibility, emulator, sqs, queue_url, app, bindery, _components: components }
    }

    /// Sends `messages` (body, one string attribute `note`) with boto3, and
    /// returns their message ids.
    async fn send_with_boto3(&self, messages: &[(&str, &str)]) -> Vec<String> {
        let home = tempfile::tempdir().expect("a temporary home");
        let mut env: Vec<_> =
            self.emulator.default_chain_env(home.path()).into_iter().map(|(k, v)| (k.to_owned(), v)).collect();
        // boto3 reads its region from AWS_DEFAULT_REGION, not AWS_REGION.
        env.push(("AWS_DEFAULT_REGION".to_owned(), aws::REGION.to_owned()));
        let messages: Vec<_> = messages
            .iter()
            .map(|(body, note)| serde_json::json!({"body": body, "attributes": {"note": note}}))
            .collect();
        let request = serde_json::json!({"queue_url": self.queue_url, "messages": messages});
        let output =
            python::run_with(moto_python(), python::script("sqs_send.py"), env, request.to_string().into_bytes()).await;
        assert!(
            output.status.success(),
            "sqs_send.py: {}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        let sent: serde_json::Value = serde_json::from_slice(&output.stdout).expect("sqs_send.py prints JSON");
        sent["ids"].as_array().expect("ids").iter().map(|id| id.as_str().expect("an id").to_owned()).collect()
    }

    async fn send(&self, body: &str) {
        self.sqs.send_message().queue_url(&self.queue_url).message_body(body).send().await.unwrap();
    }

    /// Waits until the app has received `n` requests; panics (with the logs) if it does not.
    async fn wait_for_deliveries(&self, n: usize) -> Vec<Recorded> {
        let received = self.app.wait_for_requests(n, 20 * SECOND).await;
        assert!(
            received.len() >= n,
            "visibility {} s: the app got {} of {n} deliveries: {:?}\n{}",
            self.visibility,
            received.len(),
            bodies(&received),
            self.bindery.logs()
        );
        received
    }

    /// Waits until the queue holds no message at all, visible or in flight;
    /// panics (with the logs) if it still does after 20 s.
    async fn wait_until_empty(&self) {
        let mut counts = self.emulator.queue_counts(&self.queue_url).await;
        for _ in 0..200 {
            if counts == (0, 0) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
            counts = self.emulator.queue_counts(&self.queue_url).await;
        }
        panic!(
            "visibility {} s: the queue still holds (visible, in flight) {counts:?}; the app got {:?}\n{}",
            self.visibility,
            bodies(&self.app.requests()),
            self.bindery.logs()
        );
    }

    /// The bodies the app received, sorted: once the queue is empty, nothing
    /// more can come.
    fn delivered(&self) -> Vec<String> {
        let mut delivered = bodies(&self.app.requests());
        delivered.sort();
        delivered
    }
}

/// Three messages from boto3 on a queue with a 10-minute visibility timeout:
/// the two the app acknowledges are delivered once, with the id boto3 got
/// and their attribute, and deleted; the one it refuses is delivered and
/// kept, hidden for the queue's timeout (longer than any run of this test,
/// so it is delivered once too).
#[tokio::test(flavor = "multi_thread")]
async fn bindery_run_delivers_what_boto3_sends_and_deletes_only_what_the_app_acknowledges() {
    let polled = Polled::start(600, |r| answer(if &r.body[..] == b"refused" { 500 } else { 200 })).await;
    let sent = [("first", "one"), ("refused", "line 1\r\nline 2"), ("second", "2 of 3")];
    let ids = polled.send_with_boto3(&sent).await;

    let received = polled.wait_for_deliveries(3).await;
    for ((body, note), id) in sent.iter().zip(&ids) {
        let deliveries: Vec<_> = received.iter().filter(|r| &r.body[..] == body.as_bytes()).collect();
        assert_eq!(deliveries.len(), 1, "{body}: {:?}\n{}", bodies(&received), polled.bindery.logs());
        assert_eq!(deliveries[0].path, "/tasks");
        let headers = &deliveries[0].headers;
        assert_eq!(metadata_value(deliveries[0], "messageId").as_deref(), Some(id.as_str()), "{body}: {headers:?}");
        assert_eq!(metadata_value(deliveries[0], "attr-note").as_deref(), Some(*note), "{body}: {headers:?}");
    }
    // The acknowledged ones are deleted; the refused one stays, in flight.
    let mut counts = polled.emulator.queue_counts(&polled.queue_url).await;
    for _ in 0..200 {
        if counts == (0, 1) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        counts = polled.emulator.queue_counts(&polled.queue_url).await;
    }
    assert_eq!(counts, (0, 1), "(visible, in flight)\n{}", polled.bindery.logs());
}

/// `status`, after [`APP_TIME`].
fn answer(status: u16) -> Reply {
    Reply::Delay(APP_TIME, Box::new(Reply::Status(status)))
}

fn bodies(requests: &[Recorded]) -> Vec<String> {
    requests.iter().map(|r| String::from_utf8_lossy(&r.body).into_owned()).collect()
}

async fn acked_messages_are_delivered_once_and_deleted(visibility: u32) {
    let polled = Polled::start(visibility, |_| answer(200)).await;
    for n in 0..3 {
        polled.send(&format!("task {n}")).await;
    }

    polled.wait_for_deliveries(3).await;
    polled.wait_until_empty().await;
    assert_eq!(polled.delivered(), ["task 0", "task 1", "task 2"], "visibility {visibility} s");
}

#[tokio::test(flavor = "multi_thread")]
async fn bindery_run_delivers_every_message_once_and_deletes_it_when_the_visibility_timeout_is_short() {
    for_each_short_visibility(acked_messages_are_delivered_once_and_deleted).await;
}

async fn a_refused_message_comes_back(visibility: u32) {
    // The app refuses its first delivery of "refused", and takes everything else.
    let refused_once = Arc::new(AtomicBool::new(false));
    let polled = Polled::start(visibility, move |r| {
        let refuse = &r.body[..] == b"refused" && !refused_once.swap(true, Ordering::SeqCst);
        answer(if refuse { 500 } else { 200 })
    })
    .await;
    polled.send("refused").await;
    polled.send("taken").await;

    polled.wait_for_deliveries(3).await;
    polled.wait_until_empty().await;
    assert_eq!(polled.delivered(), ["refused", "refused", "taken"], "visibility {visibility} s");
}

#[tokio::test(flavor = "multi_thread")]
async fn bindery_run_delivers_a_refused_message_again_when_the_visibility_timeout_is_short() {
    for_each_short_visibility(a_refused_message_comes_back).await;
}

async fn a_slow_delivery_stays_hidden_until_its_ack(visibility: u32) {
    let polled = Polled::start(visibility, |_| Reply::Delay(SLOW_ANSWER, Box::new(Reply::Status(200)))).await;
    polled.send("slow").await;

    polled.wait_for_deliveries(1).await;
    // Another consumer polls the queue while the app takes its time, for
    // longer than the visibility timeout: the message is never handed out.
    let polling = std::time::Instant::now();
    while polling.elapsed() < OTHER_CONSUMER_POLLS {
        let other = polled.sqs.receive_message().queue_url(&polled.queue_url).send().await.unwrap();
        let taken = other.messages.unwrap_or_default();
        assert!(
            taken.is_empty(),
            "visibility {visibility} s: another consumer received the message being delivered: {taken:?}\n{}",
            polled.bindery.logs()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    polled.wait_until_empty().await;
    assert_eq!(polled.delivered(), ["slow"], "visibility {visibility} s");
}

#[tokio::test(flavor = "multi_thread")]
async fn bindery_run_keeps_a_message_hidden_while_the_app_takes_longer_than_the_visibility_timeout() {
    for_each_short_visibility(a_slow_delivery_stays_hidden_until_its_ack).await;
}
