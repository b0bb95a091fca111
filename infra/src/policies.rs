//! Least-privilege IAM statements for the output bindings, scoped to the
//! bucket, the sender identity, the queue, topic, table or stream each one uses, and to the
//! secrets read from AWS stores at run time. HTTP bindings need none.
//!
//! Every function gets them all: the app behind any input binding may call
//! any output binding.

use bindery::component::stores::{PARAMETER_STORE_TYPE, SECRETS_MANAGER_TYPE};
use bindery::component::{BindingKind, Component, Components, OutputKind, SecretKeyRef};
use bindery::output::config::{AwsConfig, DynamoDbConfig, KinesisConfig, S3Config, SesConfig, SnsConfig, SqsConfig};
use serde_json::{Value, json};

use crate::Stack;
use crate::names::logical_id;
use crate::template::sub;

pub(crate) fn statements(stack: &mut Stack, components: &Components, refs: &[SecretKeyRef]) -> Vec<Value> {
    let mut statements = Vec::new();
    for component in components.iter().filter(|c| c.directions.output) {
        statements.extend(binding_statement(stack, component));
    }
    for secret in refs {
        let Some(component) = components.get(&secret.component).filter(|c| !c.directions.input) else { continue };
        statements.extend(secret_statement(component, secret));
    }
    statements
}

fn statement(sid: String, actions: &[&str], resources: Vec<Value>) -> Value {
    json!({ "Sid": sid, "Effect": "Allow", "Action": actions, "Resource": resources })
}

/// The component's region, else the stack's.
fn region(aws: &AwsConfig) -> String {
    aws.region.clone().unwrap_or_else(|| "${AWS::Region}".to_owned())
}

fn binding_statement(stack: &mut Stack, component: &Component) -> Vec<Value> {
    let sid = logical_id(&component.name);
    let Some(output) = component.kind.binding().and_then(BindingKind::output) else { return Vec::new() };
    match output {
        OutputKind::S3 => {
            let Some(S3Config { bucket, .. }) = stack.config(component, S3Config::from_metadata) else {
                return Vec::new();
            };
            vec![
                statement(
                    format!("{sid}Objects"),
                    &["s3:GetObject", "s3:PutObject", "s3:PutObjectTagging", "s3:DeleteObject"],
                    vec![sub(format!("arn:${{AWS::Partition}}:s3:::{bucket}/*"))],
                ),
                statement(
                    format!("{sid}List"),
                    &["s3:ListBucket"],
                    vec![sub(format!("arn:${{AWS::Partition}}:s3:::{bucket}"))],
                ),
            ]
        }
        OutputKind::Ses => {
            let Some(ses) = stack.config(component, SesConfig::from_metadata) else { return Vec::new() };
            let identity = |name: &str| {
                sub(format!("arn:${{AWS::Partition}}:ses:{}:${{AWS::AccountId}}:identity/{name}", region(&ses.aws)))
            };
            // The sender may be given per request; without a default, any identity of the account.
            let identities = match ses.email_from().map(address).filter(|f| !f.is_empty()) {
                Some(from) => {
                    let mut ids = vec![identity(from)];
                    ids.extend(from.rsplit_once('@').map(|(_, domain)| identity(domain)));
                    ids
                }
                None => vec![identity("*")],
            };
            vec![statement(format!("{sid}Send"), &["ses:SendEmail", "ses:SendRawEmail"], identities)]
        }
        OutputKind::Sqs => {
            let Some(SqsConfig { aws, queue, .. }) = stack.config(component, SqsConfig::from_metadata) else {
                return Vec::new();
            };
            vec![statement(
                format!("{sid}Send"),
                &["sqs:SendMessage", "sqs:GetQueueUrl"],
                vec![sub(format!("arn:${{AWS::Partition}}:sqs:{}:${{AWS::AccountId}}:{queue}", region(&aws)))],
            )]
        }
        // The topic ARN names its region and account.
        OutputKind::Sns => {
            let Some(SnsConfig { topic_arn, .. }) = stack.config(component, SnsConfig::from_metadata) else {
                return Vec::new();
            };
            vec![statement(format!("{sid}Publish"), &["sns:Publish"], vec![Value::from(topic_arn)])]
        }
        // `create`, `get` and `delete`; a conditional put is still PutItem.
        OutputKind::DynamoDb => {
            let Some(dynamodb) = stack.config(component, DynamoDbConfig::from_metadata) else { return Vec::new() };
            let table = if dynamodb.is_arn() {
                Value::from(dynamodb.table.clone())
            } else {
                sub(format!(
                    "arn:${{AWS::Partition}}:dynamodb:{}:${{AWS::AccountId}}:table/{}",
                    region(&dynamodb.aws),
                    dynamodb.table_name()
                ))
            };
            vec![statement(
                format!("{sid}Items"),
                &["dynamodb:PutItem", "dynamodb:GetItem", "dynamodb:DeleteItem"],
                vec![table],
            )]
        }
        OutputKind::Kinesis => {
            let Some(KinesisConfig { aws, stream }) = stack.config(component, KinesisConfig::from_metadata) else {
                return Vec::new();
            };
            vec![statement(
                format!("{sid}Put"),
                &["kinesis:PutRecord"],
                vec![sub(format!(
                    "arn:${{AWS::Partition}}:kinesis:{}:${{AWS::AccountId}}:stream/{stream}",
                    region(&aws)
                ))],
            )]
        }
        // Local bindings need no AWS permission; an HTTP target is outside AWS.
        OutputKind::Http | OutputKind::LocalStorage | OutputKind::Mailbox => Vec::new(),
    }
}

/// The address of `Name <address>` or of a bare address.
fn address(from: &str) -> &str {
    from.rsplit_once('<').map_or(from, |(_, rest)| rest.trim_end_matches('>')).trim()
}

fn secret_statement(component: &Component, secret: &SecretKeyRef) -> Option<Value> {
    let sid = format!("{}Secret{}", logical_id(&component.name), logical_id(&secret.field));
    // A store's problems are the loader's to report; its region is read as the SDK reads it.
    let region = region(&AwsConfig::from_metadata(&secret.store_metadata).unwrap_or_default());
    match secret.store_type.as_str() {
        // Secrets Manager appends six random characters to a secret's ARN.
        SECRETS_MANAGER_TYPE => Some(statement(
            sid,
            &["secretsmanager:GetSecretValue"],
            vec![sub(format!(
                "arn:${{AWS::Partition}}:secretsmanager:{region}:${{AWS::AccountId}}:secret:{}-??????",
                secret.name
            ))],
        )),
        PARAMETER_STORE_TYPE => {
            let prefix = secret.store_metadata.get("prefix").unwrap_or_default();
            let parameter = format!("{prefix}{}", secret.name);
            Some(statement(
                sid,
                &["ssm:GetParameter"],
                vec![sub(format!(
                    "arn:${{AWS::Partition}}:ssm:{region}:${{AWS::AccountId}}:parameter/{}",
                    parameter.trim_start_matches('/')
                ))],
            ))
        }
        _ => None,
    }
}
