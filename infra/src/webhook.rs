//! `bindings.http` input → a route `POST /<binding>` on one HTTP API shared
//! by every webhook, answered by bindery-webhook (payload format 2.0).

use bindery::component::Component;
use serde_json::json;

use crate::template::{Resource, ref_, sub};
use crate::trigger::Trigger;
use crate::{Settings, Stack};

pub(crate) const API_ID: &str = "WebhookApi";
/// API Gateway's limit for an HTTP API integration.
const MAX_INTEGRATION_MS: u64 = 30_000;

pub(crate) fn trigger(stack: &mut Stack, component: &Component, id: &str, settings: &Settings) -> Option<Trigger> {
    if !stack.resources.contains(API_ID) {
        stack.resources.insert(
            API_ID,
            Resource::new("AWS::Serverless::HttpApi", json!({ "Description": "bindery webhooks: POST /<binding>" })),
        );
    }
    let path = format!("/{}", component.name);
    let timeout_ms = (settings.timeout_seconds * 1000).min(MAX_INTEGRATION_MS);
    if settings.timeout_seconds * 1000 > MAX_INTEGRATION_MS {
        stack.notes.push(format!(
            "{}: API Gateway answers the caller after 30 s, whatever the function's timeout",
            component.name
        ));
    }
    stack.outputs.insert(
        format!("{id}Url"),
        json!({
            "Description": format!("Where to send {:?}'s webhooks", component.name),
            "Value": sub(format!("https://${{{API_ID}}}.execute-api.${{AWS::Region}}.${{AWS::URLSuffix}}{path}")),
        }),
    );
    let event = json!({
        "ApiId": ref_(API_ID),
        "Method": "POST",
        "Path": path,
        "PayloadFormatVersion": "2.0",
        "TimeoutInMillis": timeout_ms,
    });
    Some(Trigger {
        binary: "bindery-webhook",
        events: json!({ "Webhook": { "Type": "HttpApi", "Properties": event } }),
        properties: Vec::new(),
        statements: Vec::new(),
    })
}
