//! The idempotency table of an input binding that asks for one
//! (`idempotency: dynamodb`): Powertools' layout (key `id`, TTL on
//! `expiration`), and the three calls its function makes on it, on that
//! table alone. Bindings naming one table share it.

use bindery::component::Component;
use bindery::idempotency::{IdempotencyConfig, StoreKind};
use serde_json::{Value, json};

use crate::Stack;
use crate::names::logical_id;
use crate::template::{Resource, ref_};

/// The calls `bindery::idempotency`'s DynamoDB store makes.
const CALLS: [&str; 3] = ["dynamodb:PutItem", "dynamodb:GetItem", "dynamodb:DeleteItem"];

/// The function's statements on its idempotency table, adding the table.
pub(crate) fn statements(stack: &mut Stack, component: &Component) -> Vec<Value> {
    let Some(config) = stack.config(component, IdempotencyConfig::from_metadata).flatten() else { return Vec::new() };
    let StoreKind::DynamoDb { table } = config.store else {
        stack.notes.push(format!(
            "{}: idempotency: memory keeps its records in one process: each Lambda instance has its own; \
             use dynamodb",
            component.name
        ));
        return Vec::new();
    };
    let id = format!("{}IdempotencyTable", logical_id(&table));
    if !stack.resources.contains(&id) {
        stack.resources.insert(
            id.clone(),
            Resource::new(
                "AWS::DynamoDB::Table",
                json!({
                    "TableName": table,
                    "BillingMode": "PAY_PER_REQUEST",
                    "AttributeDefinitions": [{ "AttributeName": "id", "AttributeType": "S" }],
                    "KeySchema": [{ "AttributeName": "id", "KeyType": "HASH" }],
                    "TimeToLiveSpecification": { "AttributeName": "expiration", "Enabled": true },
                }),
            ),
        );
        stack.outputs.insert(
            id.clone(),
            json!({ "Description": format!("The idempotency records of {:?}", component.name), "Value": ref_(&id) }),
        );
    }
    vec![json!({ "Effect": "Allow", "Action": CALLS, "Resource": { "Fn::GetAtt": [id, "Arn"] } })]
}
