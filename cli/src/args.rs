//! The command line, as clap reads it.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

#[derive(Debug, Parser)]
#[command(name = "bindery", version, about = "Dapr-style bindings for AWS Lambda, run locally and in the cloud")]
pub(crate) struct Cli {
    /// bindery's own log level on stderr (error, warn, info, debug; default warn, error for `run`); `RUST_LOG` wins.
    #[arg(long, global = true)]
    pub(crate) log_level: Option<String>,
    #[command(subcommand)]
    pub(crate) command: Command,
}

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Run an app with every binding live: cron schedules fire, webhooks are
    /// served, SQS queues are polled, and the output API is up, like `dapr run`.
    Run(RunArgs),
    /// Serve only the output API (HTTP and gRPC), for an app running elsewhere.
    Sidecar(SidecarArgs),
    /// Call an output binding from the shell and print its answer.
    Invoke(InvokeArgs),
    /// Load, resolve and check every component; list every problem.
    Validate(ValidateArgs),
    /// Print a realistic sample event, for `cargo lambda invoke` or the functions.
    Events(EventsArgs),
    /// Write the AWS SAM template that deploys every input binding as a
    /// function with its trigger, and the output bindings' IAM statements.
    Infra(InfraArgs),
    /// Look into an input binding's dead-letter queue, replay what failed,
    /// or empty it.
    Dlq(DlqArgs),
}

#[derive(Debug, Args)]
pub(crate) struct DlqArgs {
    #[command(subcommand)]
    pub(crate) action: DlqAction,
}

#[derive(Debug, clap::Subcommand)]
pub(crate) enum DlqAction {
    /// How many messages wait, and a page of them (id, receive count, first bytes, attributes).
    /// They are not consumed: they are received with a visibility timeout of 0, which counts as a receive.
    List(DlqListArgs),
    /// Move the messages back to the binding's queue (received, sent, then deleted: one at a time, so a
    /// crash duplicates at most the message in flight), or deliver them to the running app (--to-app).
    Replay(DlqReplayArgs),
    /// Delete every message in the dead-letter queue.
    Purge(DlqPurgeArgs),
}

/// The dead-letter queue of an input binding.
#[derive(Debug, Args)]
pub(crate) struct DlqTarget {
    #[command(flatten)]
    pub(crate) components: ResourcesArg,
    /// The input binding (component name). For an SQS binding, its queue's RedrivePolicy names the
    /// dead-letter queue.
    pub(crate) binding: String,
    /// The dead-letter queue's URL, when the binding's queue does not name it (the stack output
    /// `<Binding>DeadLetterQueue` of `bindery infra`'s template).
    #[arg(long, value_name = "URL", conflicts_with = "stack")]
    pub(crate) dlq_url: Option<String>,
    /// The CloudFormation stack `bindery infra`'s template was deployed as: the dead-letter queue is
    /// its output `<Binding>DeadLetterQueue` (a stream binding's, `<Binding>FailureQueue`).
    #[arg(long, value_name = "NAME")]
    pub(crate) stack: Option<String>,
}

#[derive(Debug, Args)]
pub(crate) struct DlqListArgs {
    #[command(flatten)]
    pub(crate) target: DlqTarget,
    /// The most messages shown.
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u32).range(1..=100))]
    pub(crate) max: u32,
}

#[derive(Debug, Args)]
pub(crate) struct DlqReplayArgs {
    #[command(flatten)]
    pub(crate) target: DlqTarget,
    /// Deliver each message to the app as `POST /<binding>`, as the function would, instead of moving it
    /// back to the queue; it is deleted once the app acknowledged it.
    #[arg(long)]
    pub(crate) to_app: bool,
    /// The app, for --to-app: its URL.
    #[arg(long, requires = "to_app", conflicts_with = "app_port", value_name = "URL")]
    pub(crate) app_url: Option<String>,
    /// The app, for --to-app: its port on 127.0.0.1.
    #[arg(long, short = 'p', requires = "to_app")]
    pub(crate) app_port: Option<u16>,
    /// Replay at most this many messages.
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..))]
    pub(crate) max: Option<u64>,
    /// Show what would be replayed, and change nothing.
    #[arg(long)]
    pub(crate) dry_run: bool,
}

#[derive(Debug, Args)]
pub(crate) struct DlqPurgeArgs {
    #[command(flatten)]
    pub(crate) target: DlqTarget,
    /// Purging cannot be undone: say so.
    #[arg(long)]
    pub(crate) yes: bool,
}

/// Where the components are, spelled as `dapr run` spells it.
#[derive(Debug, Args)]
pub(crate) struct ResourcesArg {
    /// A folder (or file) of Dapr component YAML; repeatable, or comma-separated: all are loaded as one set,
    /// and a component name defined in two is an error. dapr run's older `--components-path` and bindery's
    /// `--components` (`-c`) are the same flag.
    #[arg(long = "resources-path", short = 'd', visible_aliases = ["components-path", "components"], short_alias = 'c',
          env = "BINDERY_COMPONENTS", value_delimiter = ',', default_value = "./components", value_name = "DIR",
          action = clap::ArgAction::Append)]
    pub(crate) resources: Vec<PathBuf>,
}

/// [`ResourcesArg`] for `invoke`, where `-d` is the data, as in `dapr invoke`.
#[derive(Debug, Args)]
pub(crate) struct InvokeResourcesArg {
    /// A folder (or file) of Dapr component YAML; repeatable, or comma-separated: all are loaded as one set.
    /// `--components-path` and `--components` are the same flag (`-d` is the data here, as in `dapr invoke`).
    #[arg(long = "resources-path", visible_aliases = ["components-path", "components"], short = 'c',
          env = "BINDERY_COMPONENTS", value_delimiter = ',', default_value = "./components", value_name = "DIR",
          action = clap::ArgAction::Append)]
    pub(crate) resources: Vec<PathBuf>,
}

/// The output API's ports and token.
#[derive(Debug, Args)]
pub(crate) struct ApiArgs {
    /// The HTTP port of the output API (also `--http-port`).
    #[arg(
        long = "dapr-http-port",
        short = 'H',
        visible_alias = "http-port",
        env = "DAPR_HTTP_PORT",
        default_value_t = 3500,
        value_name = "PORT"
    )]
    pub(crate) http_port: u16,
    /// The gRPC port of the output API (also `--grpc-port`).
    #[arg(
        long = "dapr-grpc-port",
        short = 'G',
        visible_alias = "grpc-port",
        env = "DAPR_GRPC_PORT",
        default_value_t = 50001,
        value_name = "PORT"
    )]
    pub(crate) grpc_port: u16,
    /// The largest request body and gRPC message accepted or sent, in bytes
    /// (daprd's default, 4 MiB).
    #[arg(long, env = "BINDERY_MAX_BODY_SIZE", default_value_t = bindery::api::DEFAULT_MAX_BODY_SIZE)]
    pub(crate) max_body_size: usize,
    /// Hosts the API answers besides loopback ones (a name, `*.domain`, or `*`), comma-separated:
    /// a request with any other `Host` is refused, so a web page cannot reach the API by DNS rebinding.
    #[arg(long, env = "BINDERY_ALLOWED_HOSTS", value_delimiter = ',', value_name = "HOSTS")]
    pub(crate) allowed_hosts: Vec<String>,
    /// Web page origins allowed to call the API (e.g. http://localhost:5173, or `*`), comma-separated:
    /// any other request carrying an `Origin` or `Sec-Fetch-Site: cross-site` is refused.
    #[arg(long, env = "BINDERY_ALLOWED_ORIGINS", value_delimiter = ',', value_name = "ORIGINS")]
    pub(crate) allowed_origins: Vec<String>,
}

impl ApiArgs {
    /// The API's settings from these flags (and daprd's environment).
    pub(crate) fn settings(&self, app_id: &str) -> bindery::api::ApiSettings {
        bindery::api::ApiSettings {
            max_body_size: self.max_body_size,
            app_id: app_id.to_owned(),
            local_only: bindery::api::LocalOnly::api(&self.allowed_hosts, &self.allowed_origins),
            ..bindery::api::ApiSettings::from_env()
        }
    }
}

#[derive(Debug, Args)]
pub(crate) struct RunArgs {
    #[command(flatten)]
    pub(crate) components: ResourcesArg,
    #[command(flatten)]
    pub(crate) api: ApiArgs,
    /// The port the app listens on (http://127.0.0.1:PORT).
    #[arg(long, short = 'p', conflicts_with = "app_url")]
    pub(crate) app_port: Option<u16>,
    /// The app's base URL, for an app that is not on 127.0.0.1.
    #[arg(long)]
    pub(crate) app_url: Option<String>,
    /// The app id, given to the app as APP_ID, reported by /v1.0/metadata, and checked against `scopes`.
    #[arg(long, short = 'a', default_value = "app")]
    pub(crate) app_id: String,
    /// The port webhook bindings are served on, at /<binding>.
    #[arg(long, default_value_t = 3600)]
    pub(crate) webhook_port: u16,
    /// Hosts the webhook port answers besides loopback ones, comma-separated: your tunnel's
    /// (abc.ngrok-free.app), `*.domain`, or `*` for any.
    #[arg(long, value_delimiter = ',', value_name = "HOSTS")]
    pub(crate) webhook_allowed_hosts: Vec<String>,
    /// How long to wait for the app to listen, in seconds.
    #[arg(long, default_value_t = 60)]
    pub(crate) app_ready_timeout: u64,
    /// The most bytes of metadata headers an event carries to the app; items past it are left out
    /// and named in `bindery-metadata-omitted` (as in the functions).
    #[arg(long, env = "BINDERY_MAX_METADATA_BYTES", default_value_t = bindery::deliver::DEFAULT_METADATA_LIMIT,
          value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1024..=1 << 20))]
    pub(crate) max_metadata_bytes: usize,
    /// SQS deliveries in flight at once, per queue.
    #[arg(long, env = "BINDERY_SQS_CONCURRENCY", default_value_t = 16)]
    pub(crate) sqs_concurrency: usize,
    /// Where the input bindings that ask for `idempotency` keep their records: `embedded`, this
    /// process's memory, whatever store the component names; or `components`, the store each
    /// component names (its DynamoDB table, reached as its endpoint and region say: on moto or
    /// LocalStack, say).
    #[arg(long, value_enum, env = "BINDERY_IDEMPOTENCY_STORE", default_value = "embedded")]
    pub(crate) idempotency_store: IdempotencyStore,
    /// Serve a live page of the bindings and their latest events on http://127.0.0.1:PORT
    /// (default 3700).
    #[arg(long, env = "BINDERY_DASHBOARD", value_name = "PORT", num_args = 0..=1, default_missing_value = "3700")]
    pub(crate) dashboard: Option<u16>,
    /// The app command, after `--`.
    #[arg(last = true)]
    pub(crate) command: Vec<String>,
}

#[derive(Debug, Args)]
pub(crate) struct SidecarArgs {
    #[command(flatten)]
    pub(crate) components: ResourcesArg,
    #[command(flatten)]
    pub(crate) api: ApiArgs,
    /// The app id reported by /v1.0/metadata and checked against `scopes`.
    #[arg(long, short = 'a', env = "APP_ID", default_value = "")]
    pub(crate) app_id: String,
}

#[derive(Debug, Args)]
pub(crate) struct InvokeArgs {
    #[command(flatten)]
    pub(crate) components: InvokeResourcesArg,
    /// The output binding (component name).
    pub(crate) binding: String,
    /// The operation, e.g. create, get, list, post.
    #[arg(long, short = 'o')]
    pub(crate) operation: String,
    /// The data, as text, passed as is (as gRPC's InvokeBinding does).
    #[arg(long, short = 'd', conflicts_with = "data_file")]
    pub(crate) data: Option<String>,
    /// A file whose bytes are the data.
    #[arg(long)]
    pub(crate) data_file: Option<PathBuf>,
    /// A request metadata item, KEY=VALUE; repeatable.
    #[arg(long = "metadata", short = 'm', value_name = "KEY=VALUE")]
    pub(crate) metadata: Vec<String>,
}

#[derive(Debug, Args)]
pub(crate) struct ValidateArgs {
    #[command(flatten)]
    pub(crate) components: ResourcesArg,
    /// Check as this app id sees them: components whose `scopes` leave it out are not loaded.
    #[arg(long, short = 'a', env = "BINDERY_APP_ID")]
    pub(crate) app_id: Option<String>,
}

#[derive(Debug, Args)]
pub(crate) struct InfraArgs {
    #[command(flatten)]
    pub(crate) components: ResourcesArg,
    /// Where to write the template (stdout when absent); the template's paths are relative to it.
    #[arg(long, short = 'o')]
    pub(crate) out: Option<PathBuf>,
    /// The Cargo project that builds the functions (default: the nearest directory with a Cargo.toml, upwards from here).
    #[arg(long)]
    pub(crate) code_uri: Option<PathBuf>,
    /// Point each function at target/lambda/<binary>/ of the Cargo project, as `cargo lambda build` leaves it,
    /// for `sam deploy` without `sam build` (no BuildMethod).
    #[arg(long)]
    pub(crate) prebuilt: bool,
    /// The functions' CPU.
    #[arg(long, value_enum, default_value_t = Arch::Arm64)]
    pub(crate) arch: Arch,
    /// Every function's timeout, in seconds; SQS visibility timeouts are six times it.
    #[arg(long, default_value_t = bindery_infra::Settings::DEFAULT_TIMEOUT_SECONDS, value_parser = clap::value_parser!(u64).range(1..=900))]
    pub(crate) timeout: u64,
    /// Every function's memory, in MB.
    #[arg(long, default_value_t = bindery_infra::Settings::DEFAULT_MEMORY_MB, value_parser = clap::value_parser!(u64).range(128..=10240))]
    pub(crate) memory: u64,
    /// A binary of your own that runs your app in-process: BINARY for every function, BINDING=BINARY for one; repeatable.
    #[arg(long = "binary", value_name = "[BINDING=]BINARY")]
    pub(crate) binaries: Vec<String>,
    /// The app id `scopes` are checked against (BINDERY_APP_ID in the functions).
    #[arg(long, short = 'a', env = "BINDERY_APP_ID")]
    pub(crate) app_id: Option<String>,
    /// Only the components of this namespace (NAMESPACE in the functions).
    #[arg(long, env = "NAMESPACE")]
    pub(crate) namespace: Option<String>,
    /// X-Ray active tracing on every function (Tracing: Active).
    #[arg(long)]
    pub(crate) tracing: bool,
    /// The functions' log level, in Lambda's logging config.
    #[arg(long, default_value = "INFO", value_parser = clap::builder::PossibleValuesParser::new(bindery_infra::Settings::LOG_LEVELS))]
    pub(crate) log_level: String,
    /// How long each function's log group keeps its logs, in days (a period CloudWatch Logs allows: 1, 3, 5, 7, 14, 30, 60, 90, …, 3653).
    #[arg(long, default_value_t = bindery_infra::Settings::DEFAULT_LOG_RETENTION_DAYS, value_parser = retention_days)]
    pub(crate) log_retention_days: u64,
}

fn retention_days(value: &str) -> Result<u64, String> {
    let allowed = bindery_infra::Settings::LOG_RETENTION_DAYS;
    value.parse().ok().filter(|days| allowed.contains(days)).ok_or_else(|| {
        let list: Vec<String> = allowed.iter().map(u64::to_string).collect();
        format!("CloudWatch Logs keeps logs for one of {} days", list.join(", "))
    })
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum Arch {
    Arm64,
    #[value(name = "x86_64", alias = "x86-64")]
    X86_64,
}

#[derive(Debug, Args)]
pub(crate) struct EventsArgs {
    /// Which event.
    pub(crate) source: EventSource,
    /// The body (SQS message body, or webhook request body; for S3, its length is the object's size).
    #[arg(long)]
    pub(crate) body: Option<String>,
    /// The binding the schedule invokes (Scheduler input `binding`).
    #[arg(long, default_value = "cron-binding")]
    pub(crate) binding: String,
    /// SQS: the queue name; a name ending in `.fifo` gives a FIFO event.
    #[arg(long, default_value = "task-events")]
    pub(crate) queue: String,
    /// SQS: how many records.
    #[arg(long, default_value_t = 1)]
    pub(crate) count: usize,
    /// Schedule: a legacy EventBridge scheduled-rule event instead of a Scheduler input.
    #[arg(long)]
    pub(crate) legacy: bool,
    /// Webhook: the request path.
    #[arg(long, default_value = "/github-webhook")]
    pub(crate) path: String,
    /// Webhook: a request header, NAME=VALUE; repeatable.
    #[arg(long = "header", value_name = "NAME=VALUE")]
    pub(crate) headers: Vec<String>,
    /// S3: the bucket.
    #[arg(long, default_value = "uploads")]
    pub(crate) bucket: String,
    /// S3: the object's key, as stored (the event carries it URL-encoded, as S3 sends it).
    #[arg(long, default_value = "reports/2026 summary.csv")]
    pub(crate) key: String,
    /// S3: the event name, e.g. ObjectRemoved:Delete.
    #[arg(long, default_value = "ObjectCreated:Put")]
    pub(crate) event_name: String,
    /// SNS: the topic's ARN.
    #[arg(long, default_value = "arn:aws:sns:us-east-1:123456789012:task-events")]
    pub(crate) topic_arn: String,
    /// SNS: the subject.
    #[arg(long)]
    pub(crate) subject: Option<String>,
    /// Kinesis: the stream's name.
    #[arg(long, default_value = "clickstream")]
    pub(crate) stream: String,
    /// DynamoDB Streams: the table's name.
    #[arg(long, default_value = "tasks")]
    pub(crate) table: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum EventSource {
    Schedule,
    Sqs,
    Webhook,
    /// An S3 event notification (`bindings.aws.s3`, direction input).
    S3,
    /// An SNS notification (`bindings.aws.sns`, direction input); its signature is not a real one.
    Sns,
    /// A Kinesis batch of one shard (`bindings.aws.kinesis`, direction input), `--count` records.
    Kinesis,
    /// A DynamoDB Streams batch of INSERTs (`bindings.aws.dynamodb`, direction input), `--count` records.
    Dynamodb,
}

/// `bindery run --idempotency-store`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum IdempotencyStore {
    /// In this process's memory.
    Embedded,
    /// The store each component names.
    Components,
}
