//! The function of one input binding: the binary that serves it, its
//! trigger, its IAM statements.

use bindery::component::{BindingKind, Component, InputKind};
use serde_json::{Value, json};

use crate::names::logical_id;
use crate::secrets::{self, EnvSecret};
use crate::template::{Resource, ref_, sub};
use crate::{Settings, Stack, idempotency, queue, s3_events, schedule, sns, stream, webhook};

const APP_URL_PARAMETER: &str = "AppUrl";

pub(crate) fn add(
    stack: &mut Stack,
    component: &Component,
    statements: &[Value],
    secrets: &[EnvSecret],
    settings: &Settings,
) {
    let id = logical_id(&component.name);
    let function_id = format!("{id}Function");
    if stack.resources.contains(&function_id) {
        return stack.refuse(
            component,
            "metadata.name",
            format!("its logical id {function_id} is already another component's: rename one of them"),
        );
    }
    let Some(input) = component.kind.binding().and_then(BindingKind::input) else {
        return stack.refuse(component, "spec.type", format!("{} has no input function", component.kind));
    };
    let trigger = match input {
        InputKind::Cron => schedule::trigger(stack, component, &id, settings),
        InputKind::Sqs => queue::trigger(stack, component, &id, settings),
        InputKind::Webhook => webhook::trigger(stack, component, &id, settings),
        InputKind::S3Events => s3_events::trigger(stack, component, &id),
        InputKind::Sns => sns::trigger(stack, component, &id),
        InputKind::Kinesis => stream::kinesis_trigger(stack, component, &id),
        InputKind::DynamoDbStreams => stream::dynamodb_trigger(stack, component, &id),
    };
    let Some(trigger) = trigger else { return };
    let custom = settings
        .binaries
        .iter()
        .find(|(binding, _)| *binding == component.name)
        .map(|(_, binary)| binary.as_str())
        .or(settings.binary.as_deref());
    let mut variables = json!({ "BINDERY_BINDING": component.name });
    if input == InputKind::Sqs {
        // glibc raises its mmap threshold after a large buffer is freed, and
        // then keeps every later batch's memory resident (BENCHMARKS.md).
        variables["MALLOC_MMAP_THRESHOLD_"] = json!("131072");
    }
    let secrets = secrets::for_function(secrets, component);
    if let Some((ids, _)) = &secrets {
        variables["BINDERY_SECRET_IDS"] = ids.clone();
    }
    if custom.is_none() {
        add_app_url_parameter(stack);
        variables["BINDERY_APP_URL"] = ref_(APP_URL_PARAMETER);
    }
    let log_group = format!("{id}LogGroup");
    let mut properties = json!({
        "Description": format!("bindery: {} input binding {:?}, delivered as POST {}", component.kind, component.name, component.route),
        "Environment": { "Variables": variables },
        // Merged with the format and level of the Globals' LoggingConfig.
        "LoggingConfig": { "LogGroup": ref_(&log_group) },
    });
    // An event source mapping of its own has no SAM event.
    if trigger.events.as_object().is_none_or(|events| !events.is_empty()) {
        properties["Events"] = trigger.events;
    }
    let idempotency = idempotency::statements(stack, component);
    let read_secrets = secrets.map(|(_, statement)| statement);
    let statements: Vec<&Value> =
        statements.iter().chain(&trigger.statements).chain(&idempotency).chain(&read_secrets).collect();
    if !statements.is_empty() {
        properties["Policies"] = json!([{ "Statement": statements }]);
    }
    for (name, value) in trigger.properties {
        properties[name] = value;
    }
    let binary = custom.unwrap_or(trigger.binary);
    if settings.prebuilt {
        properties["CodeUri"] = json!(lambda_dir(&settings.code_uri, binary));
    }
    let mut resource = Resource::new("AWS::Serverless::Function", properties);
    if !settings.prebuilt {
        resource.metadata = Some(json!({ "BuildMethod": "rust-cargolambda", "BuildProperties": { "Binary": binary } }));
    }
    stack.resources.insert(function_id.clone(), resource);
    stack.resources.insert(log_group, log_group_of(component, settings));
    stack.outputs.insert(
        function_id.clone(),
        json!({ "Description": format!("The function of binding {:?}", component.name), "Value": ref_(&function_id) }),
    );
}

/// The function's own log group, kept `log_retention_days`: Lambda's
/// default group keeps logs forever, and is not the stack's to delete.
fn log_group_of(component: &Component, settings: &Settings) -> Resource {
    Resource::new(
        "AWS::Logs::LogGroup",
        json!({
            "LogGroupName": sub(format!("/aws/lambda/${{AWS::StackName}}/{}", component.name)),
            "RetentionInDays": settings.log_retention_days,
        }),
    )
}

/// Where `cargo lambda build` leaves `binary` in the Cargo project `code_uri`.
fn lambda_dir(code_uri: &str, binary: &str) -> String {
    match code_uri.trim_end_matches('/') {
        "." | "" => format!("target/lambda/{binary}"),
        project => format!("{project}/target/lambda/{binary}"),
    }
}

fn add_app_url_parameter(stack: &mut Stack) {
    if !stack.parameters.contains(APP_URL_PARAMETER) {
        stack.parameters.insert(
            APP_URL_PARAMETER,
            json!({
                "Type": "String",
                "Default": "http://127.0.0.1:8080",
                "Description": "Where bindery-cron, bindery-sqs and bindery-webhook deliver (BINDERY_APP_URL): \
                                the app's base URL; the default is an app started beside the function (BINDERY_APP_CMD)",
            }),
        );
    }
}
