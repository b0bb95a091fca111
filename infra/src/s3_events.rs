//! `bindings.aws.s3` input → the bucket's event notification, answered by
//! bindery-s3-events (reference: docs/reference/aws-bindings-and-event-sources.md §3.3, §3.4).
//!
//! A notification needs the bucket in the template (SAM's S3 event then
//! writes it, with the permission and the order S3 needs). A bucket that
//! exists already (`existingBucket: true`) gets the permission only, and a
//! note with the command that adds the notification, as CloudFormation can
//! change no bucket it does not own.
//!
//! S3 invokes asynchronously: a record the app did not acknowledge fails
//! the invocation, Lambda retries it twice, then sends it to the
//! dead-letter queue.

use bindery::component::Component;
use bindery::input::s3_events::S3EventsConfig;
use serde_json::{Value, json};

use crate::Stack;
use crate::dead_letters::async_dead_letters;
use crate::template::{Resource, arn_of, ref_, sub};
use crate::trigger::Trigger;

pub(crate) fn trigger(stack: &mut Stack, component: &Component, id: &str) -> Option<Trigger> {
    let config = stack.config(component, S3EventsConfig::from_metadata)?;
    let what = format!("S3 events of {:?} the app did not acknowledge", component.name);
    let (_, invoke_config) = async_dead_letters(stack, id, what, None);
    let events = if config.existing_bucket {
        existing_bucket(stack, component, id, &config);
        json!({})
    } else {
        let bucket = format!("{id}Bucket");
        stack.resources.insert(bucket.clone(), new_bucket(&config.bucket));
        stack.outputs.insert(
            bucket.clone(),
            json!({ "Description": format!("The bucket of binding {:?}", component.name), "Value": ref_(&bucket) }),
        );
        let mut properties = json!({ "Bucket": ref_(&bucket), "Events": config.events });
        if let Some(filter) = key_filter(&config) {
            properties["Filter"] = filter;
        }
        json!({ "Notification": { "Type": "S3", "Properties": properties } })
    };
    Some(Trigger {
        binary: "bindery-s3-events",
        events,
        properties: vec![("EventInvokeConfig", invoke_config)],
        statements: Vec::new(),
    })
}

/// The bucket, private and encrypted at rest.
fn new_bucket(name: &str) -> Resource {
    Resource::new(
        "AWS::S3::Bucket",
        json!({
            "BucketName": name,
            "BucketEncryption": {
                "ServerSideEncryptionConfiguration": [{ "ServerSideEncryptionByDefault": { "SSEAlgorithm": "AES256" } }],
            },
            "PublicAccessBlockConfiguration": {
                "BlockPublicAcls": true,
                "BlockPublicPolicy": true,
                "IgnorePublicAcls": true,
                "RestrictPublicBuckets": true,
            },
        }),
    )
}

/// S3's key filter: `filterPrefix` and `filterSuffix`.
fn key_filter(config: &S3EventsConfig) -> Option<Value> {
    let rules: Vec<Value> = [("prefix", &config.prefix), ("suffix", &config.suffix)]
        .into_iter()
        .filter_map(|(name, value)| Some(json!({ "Name": name, "Value": value.as_deref()? })))
        .collect();
    (!rules.is_empty()).then(|| json!({ "S3Key": { "Rules": rules } }))
}

/// The permission S3 needs to invoke the function, limited to the bucket
/// and this account (a bucket ARN names no account, and a deleted bucket's
/// name can be taken by anyone), and the note that adds the notification.
fn existing_bucket(stack: &mut Stack, component: &Component, id: &str, config: &S3EventsConfig) {
    let function = format!("{id}Function");
    stack.resources.insert(
        format!("{id}S3Permission"),
        Resource::new(
            "AWS::Lambda::Permission",
            json!({
                "FunctionName": arn_of(&function),
                "Action": "lambda:InvokeFunction",
                "Principal": "s3.amazonaws.com",
                "SourceArn": sub(format!("arn:${{AWS::Partition}}:s3:::{}", config.bucket)),
                "SourceAccount": ref_("AWS::AccountId"),
            }),
        ),
    );
    stack.outputs.insert(
        format!("{function}Arn"),
        json!({ "Description": format!("The function S3 notifies for {:?}", component.name), "Value": arn_of(&function) }),
    );
    let mut notification = json!({ "LambdaFunctionArn": format!("<{function}Arn>"), "Events": config.events });
    if let Some(filter) = key_filter(config) {
        // The API spells the filter's keys differently from CloudFormation.
        notification["Filter"] = json!({ "Key": { "FilterRules": filter["S3Key"]["Rules"] } });
    }
    stack.notes.push(format!(
        "{}: bucket {:?} exists outside the stack, so add its notification after the deploy: \
         aws s3api put-bucket-notification-configuration --bucket {} --notification-configuration \
         '{}' (this replaces the bucket's whole notification configuration: merge in what \
         get-bucket-notification-configuration shows first)",
        component.name,
        config.bucket,
        config.bucket,
        json!({ "LambdaFunctionConfigurations": [notification] }),
    ));
}
