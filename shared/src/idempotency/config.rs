//! The component metadata that turns idempotency on for an input binding:
//! `idempotency` (the store: `dynamodb`, or `memory` for one process),
//! `idempotencyTable` (the DynamoDB table) and `idempotencyTtl` (how long an
//! acknowledged event is remembered; 1 h by default, as Powertools); for a
//! webhook, `idempotencyHeader` names the request header that holds the
//! event's id, when the sender is neither GitHub nor Stripe.

use std::time::Duration;

use crate::component::{FieldError, Metadata};

/// Powertools' default `expires_after_seconds`.
const DEFAULT_TTL: Duration = Duration::from_secs(3600);

/// Where the records are kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreKind {
    /// A DynamoDB table, written with conditional writes: on Lambda, where
    /// each instance is a process of its own.
    DynamoDb { table: String },
    /// The process's memory: `bindery run`, or tests.
    Memory,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdempotencyConfig {
    pub store: StoreKind,
    pub ttl: Duration,
    /// `idempotencyHeader`, lower-case: a webhook's id header.
    pub header: Option<String>,
}

impl IdempotencyConfig {
    /// `None` when the component does not ask for idempotency.
    pub fn from_metadata(metadata: &Metadata) -> Result<Option<Self>, Vec<FieldError>> {
        let mut errors = Vec::new();
        let store = match metadata.get("idempotency").map(str::trim) {
            None | Some("") | Some("none") => return Ok(None),
            Some(kind) if kind.eq_ignore_ascii_case("memory") => StoreKind::Memory,
            Some(kind) if kind.eq_ignore_ascii_case("dynamodb") => {
                match metadata.get("idempotencyTable").map(str::trim) {
                    Some(table) if !table.is_empty() => StoreKind::DynamoDb { table: table.to_owned() },
                    _ => {
                        errors.push(FieldError::invalid(
                            "idempotencyTable",
                            "idempotency: dynamodb needs the table's name",
                        ));
                        StoreKind::Memory
                    }
                }
            }
            Some(other) => {
                errors.push(FieldError::invalid(
                    "idempotency",
                    format!("expected dynamodb, memory or none, got {other:?}"),
                ));
                StoreKind::Memory
            }
        };
        let ttl = match metadata.duration("idempotencyTtl") {
            Ok(None) => DEFAULT_TTL,
            Ok(Some(ttl)) if ttl >= Duration::from_secs(1) => ttl,
            Ok(Some(ttl)) => {
                errors.push(FieldError::invalid("idempotencyTtl", format!("expected at least 1s, got {ttl:?}")));
                DEFAULT_TTL
            }
            Err(e) => {
                errors.push(e);
                DEFAULT_TTL
            }
        };
        let header = match metadata.get("idempotencyHeader").map(str::trim) {
            None | Some("") => None,
            Some(name) => match http::HeaderName::from_bytes(name.as_bytes()) {
                Ok(name) => Some(name.as_str().to_owned()),
                Err(_) => {
                    errors.push(FieldError::invalid("idempotencyHeader", format!("{name:?} is not a header name")));
                    None
                }
            },
        };
        if errors.is_empty() { Ok(Some(Self { store, ttl, header })) } else { Err(errors) }
    }
}
