//! `bindery infra`: an AWS SAM template from the Dapr components, so the
//! components stay the one source of truth for the deployment too.
//!
//! One function per input binding, each with its trigger: a `ScheduleV2`
//! for `bindings.cron` (module `schedule`), an SQS event source for
//! `bindings.aws.sqs` (`queue`), an HTTP API route for webhooks
//! (`webhook`). Every function gets least-privilege IAM statements for
//! the output bindings (`policies`) and reads its secrets from Secrets
//! Manager through dynamic references (`secrets`). The components travel
//! as a layer, read from `/opt`. What AWS cannot express is refused, each
//! problem naming the file, the component and the field.

mod dead_letters;
mod function;
mod idempotency;
mod load;
mod names;
mod policies;
mod queue;
mod s3_events;
mod schedule;
mod secrets;
mod sns;
mod stream;
mod template;
mod trigger;
mod webhook;

use bindery::component::{
    Component, Components, ConfigError, ConfigErrorKind, ConfigErrors, FieldError, Metadata, SecretKeyRef,
};
use chrono::{DateTime, Utc};
use serde_json::{Value, json};

pub use load::load_components;
pub use names::logical_id;
pub use template::{Entries, Resource, Template};

/// The CPU the functions run on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Architecture {
    Arm64,
    X86_64,
}

impl Architecture {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Arm64 => "arm64",
            Self::X86_64 => "x86_64",
        }
    }
}

/// What the components do not say about the deployment.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The Cargo project that builds the functions' binaries, relative to the template.
    pub code_uri: String,
    /// Each function's code is `target/lambda/<binary>/` of the Cargo project,
    /// as `cargo lambda build` leaves it, for `sam deploy` without `sam build`;
    /// otherwise the Cargo project, built by `sam build` (`BuildMethod: rust-cargolambda`).
    pub prebuilt: bool,
    /// The components directory, relative to the template: packaged as a layer.
    pub components_uri: String,
    pub architecture: Architecture,
    /// Every function's timeout; SQS visibility timeouts are derived from it.
    pub timeout_seconds: u64,
    pub memory_mb: u64,
    /// A binary of the user's for every function (one that runs the app
    /// in-process, e.g. with `bindery::function::run_in_process`) instead of
    /// `bindery-cron`, `bindery-sqs` and `bindery-webhook`.
    pub binary: Option<String>,
    /// `(binding, binary)`: the same for one binding; wins over `binary`.
    pub binaries: Vec<(String, String)>,
    /// `BINDERY_APP_ID`, for components with `scopes`.
    pub app_id: Option<String>,
    /// Starts the one-year look-ahead of the daylight-saving notes.
    pub now: DateTime<Utc>,
    /// X-Ray active tracing (`Tracing: Active`) on every function.
    pub tracing: bool,
    /// The functions' log level, as Lambda's logging config names it
    /// (`TRACE`, `DEBUG`, `INFO`, `WARN`, `ERROR` or `FATAL`).
    pub log_level: String,
    /// How long each function's log group keeps its logs, in days: one of
    /// the periods CloudWatch Logs allows ([`Settings::LOG_RETENTION_DAYS`]).
    pub log_retention_days: u64,
}

impl Settings {
    pub const DEFAULT_TIMEOUT_SECONDS: u64 = 30;
    pub const DEFAULT_MEMORY_MB: u64 = 128;
    pub const DEFAULT_LOG_RETENTION_DAYS: u64 = 30;
    /// The retention periods CloudWatch Logs accepts (`RetentionInDays`).
    pub const LOG_RETENTION_DAYS: &[u64] =
        &[1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653];
    /// The levels of Lambda's logging config (`ApplicationLogLevel`).
    pub const LOG_LEVELS: &[&str] = &["TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL"];
}

/// A template, and what the reader should know about it.
#[derive(Debug)]
pub struct Generated {
    pub template: Template,
    /// Where AWS behaves differently from Dapr, one sentence each.
    pub notes: Vec<String>,
}

/// What the generators add to, and the problems they find.
#[derive(Debug, Default)]
pub(crate) struct Stack {
    pub(crate) parameters: Entries<Value>,
    pub(crate) resources: Entries<Resource>,
    pub(crate) outputs: Entries<Value>,
    pub(crate) notes: Vec<String>,
    pub(crate) errors: Vec<ConfigError>,
}

impl Stack {
    /// A problem with `field` of `component`: what is wrong, and what to write instead.
    pub(crate) fn refuse(&mut self, component: &Component, field: &str, message: impl Into<String>) {
        let error = ConfigError::new(ConfigErrorKind::InvalidValue, message);
        self.errors.push(error.in_file(&component.file).in_component(component.reference()).at_field(field));
    }

    /// The component's typed config, read by `read` (e.g.
    /// `S3Config::from_metadata`); its problems are refused. The loader has
    /// checked it, except the values read from secrets, placeholders here
    /// ([`load_components`]): a deploy field among them is refused already
    /// ([`refuse_secret_deploy_fields`]), any other one is refused here.
    pub(crate) fn config<T>(
        &mut self,
        component: &Component,
        read: fn(&Metadata) -> Result<T, Vec<FieldError>>,
    ) -> Option<T> {
        match read(&component.metadata) {
            Ok(config) => Some(config),
            Err(errors) => {
                let refused = |field: &str| {
                    DEPLOY_FIELDS.iter().any(|f| f.eq_ignore_ascii_case(field))
                        && component.metadata.iter().any(|i| i.secret && i.name.eq_ignore_ascii_case(field))
                };
                for e in errors.into_iter().filter(|e| !refused(&e.field)) {
                    let error = ConfigError::new(e.kind, e.message);
                    self.errors
                        .push(error.in_file(&component.file).in_component(component.reference()).at_field(&e.field));
                }
                None
            }
        }
    }
}

pub const LAYER_ID: &str = "ComponentsLayer";
/// Where Lambda extracts the components layer.
pub const COMPONENTS_PATH: &str = "/opt";

/// The SAM template of `components`; `secret_refs` are their
/// `secretKeyRef`s, as [`load_components`] returns them.
pub fn sam_template(
    components: &Components,
    secret_refs: &[SecretKeyRef],
    settings: &Settings,
) -> Result<Generated, ConfigErrors> {
    let mut stack = Stack::default();
    refuse_secret_deploy_fields(&mut stack, components);
    let secret_variables = secrets::environment(&mut stack, components, secret_refs);
    let statements = policies::statements(&mut stack, components, secret_refs);
    stack.resources.insert(LAYER_ID, components_layer(settings));
    for component in components.iter().filter(|c| c.directions.input) {
        function::add(&mut stack, component, &statements, &secret_variables, settings);
    }
    let inputs: Vec<&str> = components.iter().filter(|c| c.directions.input).map(|c| c.name.as_str()).collect();
    for (binding, _) in settings.binaries.iter().filter(|(binding, _)| !inputs.contains(&binding.as_str())) {
        let message = format!(
            "a binary is given for {binding:?}, which is not an input binding (they are: {})",
            inputs.join(", ")
        );
        stack.errors.push(ConfigError::new(ConfigErrorKind::InvalidValue, message));
    }
    if !stack.errors.is_empty() {
        return Err(ConfigErrors(stack.errors));
    }
    let mut variables = json!({ "BINDERY_COMPONENTS": COMPONENTS_PATH });
    if let Some(app_id) = &settings.app_id {
        variables["BINDERY_APP_ID"] = json!(app_id);
    }
    let mut globals = json!({ "Function": {
        "Handler": "bootstrap",
        "Runtime": "provided.al2023",
        "Architectures": [settings.architecture.as_str()],
        "Timeout": settings.timeout_seconds,
        "MemorySize": settings.memory_mb,
        "Layers": [template::ref_(LAYER_ID)],
        "Environment": { "Variables": variables },
        // The functions write JSON lines (and EMF metrics) themselves; with
        // the JSON format Lambda's own lines are JSON too, and it filters
        // the functions' lines by their `level`.
        "LoggingConfig": { "LogFormat": "JSON", "ApplicationLogLevel": settings.log_level },
    }});
    if settings.tracing {
        globals["Function"]["Tracing"] = json!("Active");
    }
    if !settings.prebuilt {
        globals["Function"]["CodeUri"] = json!(settings.code_uri);
    }
    let template = Template {
        format_version: "2010-09-09",
        transform: "AWS::Serverless-2016-10-31",
        description:
            "bindery: the input bindings of the Dapr components, one function each (generated by `bindery infra`)"
                .to_owned(),
        parameters: stack.parameters,
        globals,
        resources: stack.resources,
        outputs: stack.outputs,
    };
    Ok(Generated { template, notes: stack.notes })
}

/// The metadata items the template is written from: none may come from a
/// secret, whose value is not read here and must not be written.
const DEPLOY_FIELDS: &[&str] = &[
    "schedule",
    "maxRetryAttempts",
    "maxEventAge",
    "queueName",
    "batchSize",
    "maxBatchingWindow",
    "maxReceiveCount",
    "maxConcurrency",
    "visibilityTimeout",
    "streamName",
    "table",
    "streamArn",
    "startingPosition",
    "bucket",
    "events",
    "filterPrefix",
    "filterSuffix",
    "existingBucket",
    "topicArn",
    "emailFrom",
    "topicArn",
    "table",
    "streamName",
    "region",
    "direction",
];

fn refuse_secret_deploy_fields(stack: &mut Stack, components: &Components) {
    for component in components.iter() {
        for item in component.metadata.iter().filter(|i| i.secret) {
            if let Some(field) = DEPLOY_FIELDS.iter().find(|f| f.eq_ignore_ascii_case(&item.name)) {
                stack.refuse(
                    component,
                    field,
                    "comes from a secret, but the template is written from its value: give it as a plain value",
                );
            }
        }
    }
}

fn components_layer(settings: &Settings) -> Resource {
    Resource::new(
        "AWS::Serverless::LayerVersion",
        json!({
            "Description": format!("The Dapr components, read by every function from {COMPONENTS_PATH}"),
            "ContentUri": settings.components_uri,
            "CompatibleRuntimes": ["provided.al2023"],
            "CompatibleArchitectures": [settings.architecture.as_str()],
        }),
    )
}

#[cfg(test)]
mod tests;
