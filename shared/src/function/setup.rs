//! What every function does at init: find its component, check that it is
//! the right type and an input binding, build the delivery to the app, and
//! start the app when the function runs it ([`colocated`]).

use super::colocated::{self, Colocated};
use super::deadline::DeadlineRule;
use super::env::{self, FunctionEnv};
use super::startup::{self, StartupError};
use super::stopping::Stopping;
use crate::component::{BindingKind, Component, ComponentKind, EnvLookup, LoadOptions, load_one, load_partial};
use crate::deliver::{App, Deliverer, DeliveryError};
use crate::idempotency::Idempotency;
use crate::input::BindingEvent;
use crate::process::AppProcess;
use crate::telemetry::metrics::{self, Failure};

/// Everything a function needs, resolved at init.
#[derive(Debug)]
pub struct FunctionSetup {
    pub component: Component,
    /// What the function serves.
    pub kind: BindingKind,
    pub deliverer: Deliverer,
    /// The component's `idempotency`: each event delivered once per
    /// natural id ([`FunctionSetup::deliver_record`]).
    pub idempotency: Option<Idempotency>,
    /// How long before the invocation deadline the function answers, and
    /// what it does with a deadline that cannot be a real one.
    pub deadline: DeadlineRule,
    /// The app to start at init (`BINDERY_APP_CMD`), if any.
    colocated: Option<Colocated>,
    /// Set on SIGTERM: deliveries then wrap up within the stop grace.
    pub stopping: Stopping,
}

/// Builds the setup of a function serving `expected_type`. `app` replaces the
/// HTTP app (`BINDERY_APP_URL`) with, e.g., an in-process router.
pub fn setup(
    function: &str,
    expected: BindingKind,
    env: EnvLookup<'_>,
    app: Option<App>,
) -> Result<FunctionSetup, StartupError> {
    let component = served_component(env, &format!("the {expected} component {function} serves"))?;
    setup_for(function, expected, component, env, app)
}

/// [`setup`] for the component, already loaded, that `BINDERY_BINDING` names.
pub(crate) fn setup_for(
    function: &str,
    expected: BindingKind,
    component: Component,
    env: EnvLookup<'_>,
    app: Option<App>,
) -> Result<FunctionSetup, StartupError> {
    if component.kind != ComponentKind::Binding(expected) {
        return Err(StartupError(format!(
            "{}: component {:?} is {}, but {function} serves {expected}",
            component.file.display(),
            component.name,
            component.kind
        )));
    }
    if !component.directions.input {
        return Err(StartupError(format!(
            "{}: component {:?} is not an input binding (its direction is output only); \
             add \"input\" to its direction",
            component.file.display(),
            component.name
        )));
    }
    let idempotency = Idempotency::from_component(&component.metadata, env)
        .map_err(|why| StartupError(format!("{}: component {:?}: {why}", component.file.display(), component.name)))?;
    let vars = FunctionEnv::read(env)?;
    let (app, colocated) = match app {
        Some(app) => (app, colocated::config(env, None)?),
        None => {
            let app = App::http(&vars.app_url).map_err(|e| StartupError(format!("BINDERY_APP_URL: {e}")))?;
            (app, colocated::config(env, Some(&vars.app_url))?)
        }
    };
    let deliverer = Deliverer::new(app, component.route.clone(), vars.app_token.as_deref())
        .map_err(|e| StartupError(e.message))?
        .with_metadata_limit(vars.metadata_limit);
    Ok(FunctionSetup {
        component,
        kind: expected,
        deliverer,
        idempotency,
        deadline: vars.deadline,
        colocated,
        stopping: Stopping::default(),
    })
}

impl FunctionSetup {
    /// Delivers one record, with no deadline of its own (the caller bounds
    /// it): once per natural id when the binding asks for idempotency, its
    /// record in progress until `deadline`. `Ok(true)` for a duplicate
    /// acknowledged without delivery. Counted in the metrics.
    pub(crate) async fn deliver_record(
        &self,
        event: BindingEvent,
        deadline: tokio::time::Instant,
    ) -> Result<bool, DeliveryError> {
        let started = std::time::Instant::now();
        let once = self.idempotency.as_ref();
        let delivered = crate::deliver::once::deliver_record(
            once,
            &self.deliverer,
            &self.component.name,
            self.kind,
            event,
            deadline,
        )
        .await;
        match &delivered {
            Ok(true) => metrics::duplicate(),
            Ok(false) => metrics::delivery(Ok(()), Some(started.elapsed())),
            Err(e) => metrics::delivery(Err(e.failure()), e.answered().then(|| started.elapsed())),
        }
        delivered
    }

    /// [`FunctionSetup::deliver_record`] bounded by `deadline`: for a source
    /// whose records come one at a time.
    pub(crate) async fn deliver_record_by(
        &self,
        event: BindingEvent,
        deadline: tokio::time::Instant,
    ) -> Result<bool, DeliveryError> {
        let delivery = self.deliver_record(event, deadline);
        tokio::time::timeout_at(deadline, delivery).await.unwrap_or_else(|_| {
            metrics::delivery(Err(Failure::Timeout), None);
            Err(crate::deliver::timed_out())
        })
    }

    /// Starts the co-located app, if the function has one, and makes its
    /// deliveries aware of the app's exit. A failure is reported to Lambda
    /// as an init error and returned for `main` to exit with.
    pub(crate) async fn start_app(&mut self, function: &str) -> Result<Option<AppProcess>, lambda_runtime::Error> {
        let Some(colocated) = &self.colocated else { return Ok(None) };
        match colocated.start().await {
            Ok(app) => {
                self.deliverer.watch_app_exit(app.exit_watch());
                Ok(Some(app))
            }
            Err(e) => Err(startup::fail_as(function, startup::APP_START_ERROR, e).await),
        }
    }
}

/// Loads the component `BINDERY_BINDING` names (and the secret stores it
/// may read), logs what the load set aside, and returns it; `what` says
/// what the variable should name. The other components are read, not
/// built: another binding's secrets are neither read nor required.
pub(crate) fn served_component(env: EnvLookup<'_>, what: &str) -> Result<Component, StartupError> {
    let binding = env::binding(env, what)?;
    let paths = env::components_paths(env)?;
    let options = LoadOptions {
        namespace: env("NAMESPACE").filter(|s| !s.is_empty()),
        app_id: env("BINDERY_APP_ID").filter(|s| !s.is_empty()),
        env,
        prefetched: None,
        check: crate::kinds::check,
    };
    let components =
        load_one(&paths, &binding, &options).map_err(|e| StartupError(e.to_string().trim_end().to_owned()))?;
    components.log_warnings();
    components.get(&binding).cloned().ok_or_else(|| {
        if let Some(why) = components.why_missing(&binding) {
            return StartupError(format!("BINDERY_BINDING is {binding:?}, which cannot be served: {why}"));
        }
        // Not there: name what is, from a load of everything that reports,
        // rather than fails on, the others' problems.
        let all = load_partial(&paths, &options).map(|(all, _)| all).unwrap_or_default();
        let names: Vec<&str> = all.iter().map(|c| c.name.as_str()).collect();
        StartupError(format!(
            "BINDERY_BINDING is {binding:?}, but no component in {} has that name (found: {})",
            paths.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", "),
            if names.is_empty() { "none".to_owned() } else { names.join(", ") }
        ))
    })
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use std::time::Duration;

    use super::*;

    fn fixtures() -> String {
        format!("{}/fixtures/components/valid", env!("CARGO_MANIFEST_DIR"))
    }

    fn run(vars: &[(&str, &str)], expected: BindingKind) -> Result<FunctionSetup, StartupError> {
        let mut map: HashMap<String, String> = vars.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        map.entry("BINDERY_COMPONENTS".into()).or_insert_with(fixtures);
        map.insert("GITHUB_WEBHOOK_SECRET".into(), "s".into());
        map.insert("TEST_REGION".into(), "eu-west-1".into());
        let env = move |name: &str| map.get(name).cloned();
        setup("bindery-test", expected, &env, None)
    }

    #[test]
    fn serves_the_named_input_binding() {
        let s = run(&[("BINDERY_BINDING", "task-events"), ("APP_API_TOKEN", "t")], BindingKind::AwsSqs).unwrap();
        assert_eq!(s.deliverer.route(), "/events/tasks");
        assert_eq!(s.deliverer.app().target(), "http://127.0.0.1:8080");
        assert_eq!(s.deadline.margin, Duration::from_millis(250));
        assert_eq!(s.deadline.fallback, Duration::from_secs(60));
    }

    #[test]
    fn refuses_what_it_cannot_serve() {
        let err = |vars: &[(&str, &str)], t: BindingKind| run(vars, t).unwrap_err().0;
        assert!(err(&[], BindingKind::Cron).starts_with("BINDERY_BINDING is not set"));
        assert!(
            err(&[("BINDERY_BINDING", "nope")], BindingKind::Cron).contains("no component in")
                && err(&[("BINDERY_BINDING", "nope")], BindingKind::Cron).contains("cron-binding")
        );
        assert!(
            err(&[("BINDERY_BINDING", "cron-binding")], BindingKind::AwsSqs)
                .ends_with("component \"cron-binding\" is bindings.cron, but bindery-test serves bindings.aws.sqs")
        );
        assert!(err(&[("BINDERY_BINDING", "http-binding")], BindingKind::Http).contains("is not an input binding"));
        assert!(
            err(&[("BINDERY_BINDING", "cron-binding"), ("BINDERY_APP_URL", "https://x")], BindingKind::Cron)
                .starts_with("BINDERY_APP_URL: ")
        );
        assert_eq!(
            err(&[("BINDERY_BINDING", "cron-binding"), ("BINDERY_DEADLINE_MARGIN_MS", "soon")], BindingKind::Cron),
            "BINDERY_DEADLINE_MARGIN_MS must be a whole number from 0 to 60000, got \"soon\""
        );
        assert_eq!(
            err(&[("BINDERY_BINDING", "cron-binding"), ("BINDERY_FALLBACK_DEADLINE_MS", "0")], BindingKind::Cron),
            "BINDERY_FALLBACK_DEADLINE_MS must be a whole number from 1000 to 900000, got \"0\""
        );
        assert!(
            err(&[("BINDERY_COMPONENTS", "/nonexistent/bindery"), ("BINDERY_BINDING", "x")], BindingKind::Cron)
                .contains("cannot read")
        );
    }

    /// A function resolves its own binding's secrets, not the others': the
    /// SQS function starts while the webhook's secret is unset (it failed
    /// its init over it before), and the webhook's function says what is missing.
    #[test]
    fn another_binding_s_unset_secret_does_not_stop_a_function() {
        let env = |binding: &'static str| {
            move |name: &str| match name {
                "BINDERY_COMPONENTS" => Some(fixtures()),
                "BINDERY_BINDING" => Some(binding.to_owned()),
                "APP_API_TOKEN" => Some("t".to_owned()),
                "TEST_REGION" => Some("eu-west-1".to_owned()),
                _ => None,
            }
        };
        let sqs = setup("bindery-test", BindingKind::AwsSqs, &env("task-events"), None).unwrap();
        assert_eq!(sqs.component.name, "task-events");
        let webhook = setup("bindery-test", BindingKind::Http, &env("github-webhook"), None).unwrap_err().0;
        assert!(webhook.contains("GITHUB_WEBHOOK_SECRET"), "{webhook}");
        // A name that is not there still lists what is.
        let missing = setup("bindery-test", BindingKind::Cron, &env("nope"), None).unwrap_err().0;
        assert!(missing.contains("no component in") && missing.contains("cron-binding"), "{missing}");
    }

    /// A folder shared with daprd loads; naming one of its components that
    /// bindery does not serve, or one skipped by ignoreErrors, says why.
    #[test]
    fn a_binding_bindery_does_not_serve_is_named_as_such() {
        let docs = format!("{}/fixtures/components/dapr-docs", env!("CARGO_MANIFEST_DIR"));
        let shared = format!("{docs}/shared-folder");
        let err = run(&[("BINDERY_COMPONENTS", &shared), ("BINDERY_BINDING", "kafka-binding")], BindingKind::Cron)
            .unwrap_err()
            .0;
        assert_eq!(
            err,
            format!(
                "BINDERY_BINDING is \"kafka-binding\", which cannot be served: {shared}/kafka-binding.yaml: component \
                 \"kafka-binding\" is bindings.kafka, a type bindery does not serve (it serves bindings.cron, \
                 bindings.aws.sqs, bindings.http, bindings.aws.s3, bindings.aws.ses, bindings.localstorage, \
                 bindings.local.mailbox, bindings.aws.sns, bindings.aws.dynamodb, bindings.aws.kinesis)"
            )
        );
        let skipped = format!("{docs}/ignore-errors");
        let err =
            run(&[("BINDERY_COMPONENTS", &skipped), ("BINDERY_BINDING", "nightly")], BindingKind::Cron).unwrap_err().0;
        assert!(
            err.starts_with(
                "BINDERY_BINDING is \"nightly\", which cannot be served: it failed to load (and spec.ignoreErrors let \
                 the rest go on): "
            ) && err.contains("field \"schedule\": invalid schedule format \"not a schedule\""),
            "{err}"
        );
    }
}
