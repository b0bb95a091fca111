//! The AWS emulator the tests run against: moto, and LocalStack for a second
//! run of the S3, SQS, SNS, Kinesis and `bindery run` SQS tests (`scripts/test`
//! runs both; `scripts/test-localstack` only the second). The script that runs the tests
//! starts it and passes its address in `BINDERY_TEST_AWS_ENDPOINT`; this
//! module refuses any address that is not loopback, so no test can ever reach
//! real AWS.
//!
//! Tests run in parallel against one emulator, so each one names its own
//! buckets, queues and secrets with [`Emulator::unique`] instead of resetting
//! shared state.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_s3::config::Credentials;

use crate::loopback_only;

/// The variable the test scripts set to the emulator's address.
pub const ENDPOINT_VAR: &str = "BINDERY_TEST_AWS_ENDPOINT";
/// `moto` (the default) or `localstack`.
pub const KIND_VAR: &str = "BINDERY_TEST_AWS_EMULATOR";
pub const REGION: &str = "us-east-1";

/// A running emulator on loopback.
#[derive(Debug, Clone)]
pub struct Emulator {
    pub endpoint: String,
    pub kind: EmulatorKind,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EmulatorKind {
    Moto,
    LocalStack,
}

impl Emulator {
    /// The emulator `scripts/test` started. Panics with the fix when the
    /// variable is missing: these tests are never silently skipped.
    pub fn from_env() -> Self {
        let endpoint = std::env::var(ENDPOINT_VAR).unwrap_or_else(|_| {
            panic!("{ENDPOINT_VAR} is not set: run the tests with scripts/test, which starts the AWS emulator")
        });
        loopback_only(&endpoint);
        let kind = match std::env::var(KIND_VAR).as_deref() {
            Ok("localstack") => EmulatorKind::LocalStack,
            _ => EmulatorKind::Moto,
        };
        Self { endpoint: endpoint.trim_end_matches('/').to_owned(), kind }
    }

    /// SDK configuration for the emulator: fixed test keys, no retries.
    pub async fn sdk_config(&self) -> SdkConfig {
        aws_config::defaults(BehaviorVersion::latest())
            .region(Region::new(REGION))
            .endpoint_url(&self.endpoint)
            .credentials_provider(Credentials::new("test", "test", None, None, "bindery tests"))
            .load()
            .await
    }

    pub async fn s3(&self) -> aws_sdk_s3::Client {
        let config = aws_sdk_s3::config::Builder::from(&self.sdk_config().await).force_path_style(true).build();
        aws_sdk_s3::Client::from_conf(config)
    }

    pub async fn sqs(&self) -> aws_sdk_sqs::Client {
        aws_sdk_sqs::Client::new(&self.sdk_config().await)
    }

    pub async fn sesv2(&self) -> aws_sdk_sesv2::Client {
        aws_sdk_sesv2::Client::new(&self.sdk_config().await)
    }

    /// A queue's (visible, in flight) message counts.
    pub async fn queue_counts(&self, url: &str) -> (u64, u64) {
        use aws_sdk_sqs::types::QueueAttributeName;
        let output = self
            .sqs()
            .await
            .get_queue_attributes()
            .queue_url(url)
            .attribute_names(QueueAttributeName::ApproximateNumberOfMessages)
            .attribute_names(QueueAttributeName::ApproximateNumberOfMessagesNotVisible)
            .send()
            .await
            .unwrap_or_else(|e| panic!("GetQueueAttributes {url}: {e:?}"));
        let attributes = output.attributes.unwrap_or_default();
        let count = |name| attributes.get(&name).and_then(|v| v.parse().ok()).unwrap_or(0);
        (
            count(QueueAttributeName::ApproximateNumberOfMessages),
            count(QueueAttributeName::ApproximateNumberOfMessagesNotVisible),
        )
    }

    /// A name no other test uses: lower case, digits and dashes, valid for
    /// buckets, queues, secrets and email local parts.
    pub fn unique(&self, prefix: &str) -> String {
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let nanos =
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default().subsec_nanos();
        format!("{prefix}-{}-{n}-{nanos:x}", std::process::id())
    }

    /// The whole environment for a process that must find the emulator the
    /// way an app on AWS finds AWS, through the SDK's default chain:
    /// `AWS_ENDPOINT_URL` (checked to be loopback), the test keys and region
    /// in the standard variables, and `HOME` and the config and credentials
    /// files in `home`, an empty folder, so no profile of the machine's user
    /// is read. The instance metadata service is off. Pass it to a command
    /// whose environment was cleared, so no `AWS_PROFILE` or other setting
    /// leaks in.
    pub fn default_chain_env(&self, home: &Path) -> Vec<(&'static str, String)> {
        loopback_only(&self.endpoint);
        let home = home.display();
        vec![
            ("AWS_ENDPOINT_URL", self.endpoint.clone()),
            ("AWS_ACCESS_KEY_ID", "test".to_owned()),
            ("AWS_SECRET_ACCESS_KEY", "test".to_owned()),
            ("AWS_REGION", REGION.to_owned()),
            ("AWS_EC2_METADATA_DISABLED", "true".to_owned()),
            ("HOME", home.to_string()),
            ("AWS_CONFIG_FILE", format!("{home}/no-aws-config")),
            ("AWS_SHARED_CREDENTIALS_FILE", format!("{home}/no-aws-credentials")),
        ]
    }

    /// `spec.metadata` items (YAML, indented for a component) pointing an AWS
    /// component at the emulator.
    pub fn component_metadata(&self) -> String {
        format!(
            "    - name: region\n      value: {REGION}\n    - name: endpoint\n      value: {}\n    \
             - name: accessKey\n      value: test\n    - name: secretKey\n      value: test\n",
            self.endpoint
        )
    }

    /// A component of `type_` pointed at the emulator, with `items` as its
    /// other metadata.
    pub fn component(&self, name: &str, type_: &str, items: &[(&str, &str)]) -> String {
        let items: String = items
            .iter()
            .map(|(k, v)| format!("    - name: {k}\n      value: {}\n", serde_json::Value::from(*v)))
            .collect();
        format!(
            "apiVersion: dapr.io/v1alpha1\nkind: Component\nmetadata:\n  name: {name}\nspec:\n  type: {type_}\n  \
             version: v1\n  metadata:\n{items}{}",
            self.component_metadata()
        )
    }

    /// Runs `request` (`{"op": ...}`) through `tests/python/aws_resources.py`:
    /// boto3, in moto's venv, reaching the emulator through its default chain
    /// (checked to be loopback by [`Emulator::default_chain_env`]). Its
    /// answer; panics with boto3's error.
    pub async fn boto3(&self, request: serde_json::Value) -> serde_json::Value {
        let home = tempfile::tempdir().expect("a temporary folder");
        let mut env: Vec<(String, String)> =
            self.default_chain_env(home.path()).into_iter().map(|(k, v)| (k.to_owned(), v)).collect();
        // boto3 reads its region from AWS_DEFAULT_REGION, not AWS_REGION.
        env.push(("AWS_DEFAULT_REGION".to_owned(), REGION.to_owned()));
        let script = crate::python::script("aws_resources.py");
        let output = crate::python::run_with(moto_python(), script, env, request.to_string().into_bytes()).await;
        assert!(output.status.success(), "boto3 {request} failed: {}", String::from_utf8_lossy(&output.stderr));
        serde_json::from_slice(&output.stdout).unwrap_or_else(|e| panic!("boto3 {request} answered no JSON: {e}"))
    }

    /// Creates a bucket and returns its name.
    pub async fn bucket(&self, prefix: &str) -> String {
        let name = self.unique(prefix);
        self.s3().await.create_bucket().bucket(&name).send().await.expect("create bucket");
        name
    }

    /// A verified SES identity to send from (moto refuses unverified senders).
    pub async fn email_identity(&self, address: &str) {
        self.sesv2().await.create_email_identity().email_identity(address).send().await.expect("create identity");
    }

    /// The emails moto has accepted, from its `/moto-api/data.json`
    /// (`ses.Message`: `id`, `source`, `destinations`, `subject`, `body`).
    pub async fn sent_emails(&self) -> Vec<serde_json::Value> {
        assert_eq!(self.kind, EmulatorKind::Moto, "only moto exposes sent mail");
        // moto's dump reads every S3 object's restore status, which advances
        // on each read and, once "restored", looks up the object's bucket:
        // multipart parts have none, and the whole dump fails. Holding that
        // state still keeps the dump readable whatever the S3 tests did.
        let freeze =
            r#"{"model_name": "s3::keyrestore", "transition": {"progression": "manual", "times": 1000000000}}"#;
        let set = format!("{}/moto-api/state-manager/set-transition", self.endpoint);
        match post(&set, freeze).await {
            Ok((200 | 201, _)) => {}
            other => panic!("cannot hold moto's S3 restore state still: {other:?}"),
        }
        let url = format!("{}/moto-api/data.json", self.endpoint);
        // moto sometimes answers its first read with a 500 while it builds the dump.
        for attempt in 0..5 {
            match get(&url).await {
                Ok((200, body)) => {
                    let data: serde_json::Value = serde_json::from_slice(&body).expect("moto data.json is JSON");
                    return data.pointer("/ses/Message").and_then(|m| m.as_array()).cloned().unwrap_or_default();
                }
                Ok((status, _)) if attempt < 4 => eprintln!("moto data.json answered {status}; retrying"),
                Ok((status, _)) => panic!("moto data.json answered {status}"),
                Err(e) => panic!("cannot read {url}: {e}"),
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        unreachable!("the loop returns or panics")
    }

    /// The sent email with this SES message id.
    pub async fn sent_email(&self, message_id: &str) -> serde_json::Value {
        self.sent_emails()
            .await
            .into_iter()
            .find(|m| m["id"] == message_id)
            .unwrap_or_else(|| panic!("moto has no email with id {message_id}"))
    }
}

/// Loads `documents` (component YAML) from a temporary folder, as an app
/// does, and builds their output bindings. Keep the folder while they are used.
pub async fn load_bindings(documents: &[String]) -> (bindery::output::Bindings, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("a temporary folder");
    std::fs::write(dir.path().join("components.yaml"), documents.join("---\n")).expect("write the components");
    let bindings = bindery::output::Bindings::load(dir.path()).await.unwrap_or_else(|e| panic!("load: {e}"));
    (bindings, dir)
}

/// A plain HTTP POST of a JSON body on loopback.
async fn post(url: &str, body: &str) -> Result<(u16, bytes::Bytes), String> {
    use http_body_util::{BodyExt, Full};
    let client = hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
        .build_http::<Full<bytes::Bytes>>();
    let request = http::Request::post(url)
        .header("content-type", "application/json")
        .body(Full::from(body.to_owned()))
        .map_err(|e| e.to_string())?;
    let response = client.request(request).await.map_err(|e| e.to_string())?;
    let status = response.status().as_u16();
    let body = response.into_body().collect().await.map_err(|e| e.to_string())?.to_bytes();
    Ok((status, body))
}

/// A plain HTTP GET on loopback.
async fn get(url: &str) -> Result<(u16, bytes::Bytes), String> {
    use http_body_util::{BodyExt, Empty};
    let client = hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
        .build_http::<Empty<bytes::Bytes>>();
    let response = client.get(url.parse().map_err(|e| format!("{e}"))?).await.map_err(|e| e.to_string())?;
    let status = response.status().as_u16();
    let body = response.into_body().collect().await.map_err(|e| e.to_string())?.to_bytes();
    Ok((status, body))
}

/// The variable the test scripts set to the interpreter of moto's venv
/// (which also holds boto3, cfn-lint and aws-sam-translator; the tests use
/// its boto3 against LocalStack too).
pub const MOTO_PYTHON_VAR: &str = "BINDERY_TEST_INFRA_PYTHON";

/// The interpreter of moto's venv; panics with the fix when it is not set.
pub fn moto_python() -> PathBuf {
    let path = std::env::var_os(MOTO_PYTHON_VAR).map(PathBuf::from).unwrap_or_else(|| {
        panic!("{MOTO_PYTHON_VAR} is not set: run the tests with scripts/test, which installs moto, cfn-lint and aws-sam-translator")
    });
    assert!(path.is_file(), "{MOTO_PYTHON_VAR} is {}, which does not exist: rerun scripts/test", path.display());
    path
}

/// A moto server of a test's own, on loopback, for tests that stop and
/// restart the emulator or fill it with what the shared one must not hold.
/// Killed on drop.
pub struct OwnMoto {
    child: Option<Child>,
    pub port: u16,
    pub endpoint: String,
}

impl OwnMoto {
    /// Starts moto on an unused port and waits until it answers.
    pub fn start() -> Self {
        Self::start_on(crate::unused_port())
    }

    /// Starts moto on `port` (e.g. again, after [`OwnMoto::kill`]) and waits until it answers.
    pub fn start_on(port: u16) -> Self {
        Self::start_with(port, &[])
    }

    /// Starts moto with `env` (moto's own settings, e.g.
    /// `MOTO_IAM_LOAD_MANAGED_POLICIES=true`) on an unused port.
    pub fn start_with_env(env: &[(&str, &str)]) -> Self {
        Self::start_with(crate::unused_port(), env)
    }

    fn start_with(port: u16, env: &[(&str, &str)]) -> Self {
        let child = Command::new(moto_python().with_file_name("moto_server"))
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .envs(env.iter().copied())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start moto_server: {e}"));
        let moto = Self { child: Some(child), port, endpoint: format!("http://127.0.0.1:{port}") };
        let deadline = Instant::now() + Duration::from_secs(60);
        while !moto_answers(port) {
            assert!(Instant::now() < deadline, "moto did not answer on port {port} within 60 s");
            std::thread::sleep(Duration::from_millis(100));
        }
        moto
    }

    /// Kills the server (SIGKILL) and waits until it is gone: connecting is refused afterwards.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for OwnMoto {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Whether moto's own API answers 200 on `port`.
fn moto_answers(port: u16) -> bool {
    let Ok(mut stream) = TcpStream::connect(("127.0.0.1", port)) else { return false };
    let request = format!("GET /moto-api/ HTTP/1.0\r\nHost: 127.0.0.1:{port}\r\n\r\n");
    let mut status = [0u8; 12];
    stream.write_all(request.as_bytes()).is_ok() && stream.read_exact(&mut status).is_ok() && status.ends_with(b" 200")
}
