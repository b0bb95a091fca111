//! Each source's natural id: what makes two deliveries the same event.
//!
//! - SQS: the deduplication id on a FIFO queue (what the sender said makes
//!   it the same message), else the message id;
//! - Kinesis and DynamoDB Streams: the record's sequence number;
//! - a schedule: its scheduled time (the schedule is the binding), which
//!   Scheduler's retries of one invocation share;
//! - SNS: the message id; S3: the object's key and the event's sequencer;
//! - a webhook: the header the component names (`idempotencyHeader`), else
//!   GitHub's `X-GitHub-Delivery`, else a Stripe event's id.
//!
//! An event without one (a schedule invoked by hand, a webhook from a
//! sender that names none) is delivered as if idempotency were off.

use std::borrow::Cow;

use crate::component::BindingKind;
use crate::input::BindingEvent;

/// `event`'s natural id as a source of `kind` gives it; `header` is the
/// webhook's configured id header, lower-case.
pub fn natural_id<'e>(kind: BindingKind, event: &'e BindingEvent, header: Option<&str>) -> Option<Cow<'e, str>> {
    let found = match kind {
        BindingKind::AwsSqs => event.metadata("messageDeduplicationId").or_else(|| event.metadata("messageId")),
        BindingKind::AwsKinesis | BindingKind::AwsDynamoDb => event.metadata("sequenceNumber"),
        BindingKind::Cron => event.metadata("scheduledTime"),
        BindingKind::AwsSns => event.metadata("messageId"),
        BindingKind::AwsS3 => {
            let (key, sequencer) = (event.metadata("key")?, event.metadata("sequencer")?);
            return Some(Cow::Owned(format!("{key}@{sequencer}")));
        }
        BindingKind::Http => match header {
            Some(header) => event.metadata(header),
            None => event.metadata("x-github-delivery").or_else(|| stripe_event_id(event)),
        },
        BindingKind::AwsSes | BindingKind::LocalStorage | BindingKind::LocalMailbox => None,
    };
    found.filter(|id| !id.is_empty()).map(Cow::Borrowed)
}

/// A Stripe event's `id` (`evt_…`), read from a signed request's body.
fn stripe_event_id(event: &BindingEvent) -> Option<&str> {
    #[derive(serde::Deserialize)]
    struct StripeEvent<'a> {
        id: &'a str,
        object: &'a str,
    }
    event.metadata("stripe-signature")?;
    let parsed: StripeEvent<'_> = serde_json::from_slice(&event.data).ok()?;
    (parsed.object == "event" && parsed.id.starts_with("evt_")).then_some(parsed.id)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(metadata: &[(&'static str, &str)], data: &str) -> BindingEvent {
        BindingEvent {
            data: bytes::Bytes::copy_from_slice(data.as_bytes()),
            metadata: metadata.iter().map(|(k, v)| ((*k).into(), (*v).to_owned())).collect(),
            traceparent: None,
        }
    }

    fn id(kind: BindingKind, e: &BindingEvent, header: Option<&str>) -> Option<String> {
        natural_id(kind, e, header).map(Cow::into_owned)
    }

    #[test]
    fn each_source_names_its_own_id() {
        let sqs = event(&[("messageId", "m-1")], "");
        assert_eq!(id(BindingKind::AwsSqs, &sqs, None).as_deref(), Some("m-1"));
        let fifo = event(&[("messageId", "m-1"), ("messageDeduplicationId", "d-1")], "");
        assert_eq!(id(BindingKind::AwsSqs, &fifo, None).as_deref(), Some("d-1"));
        let record = event(&[("sequenceNumber", "4959"), ("eventID", "e")], "");
        assert_eq!(id(BindingKind::AwsKinesis, &record, None).as_deref(), Some("4959"));
        assert_eq!(id(BindingKind::AwsDynamoDb, &record, None).as_deref(), Some("4959"));
        let schedule = event(&[("scheduledTime", "2026-03-22T18:59:00Z"), ("attempt", "2")], "");
        assert_eq!(id(BindingKind::Cron, &schedule, None).as_deref(), Some("2026-03-22T18:59:00Z"));
        let sns = event(&[("messageId", "95df01b4")], "");
        assert_eq!(id(BindingKind::AwsSns, &sns, None).as_deref(), Some("95df01b4"));
        let s3 = event(&[("bucket", "b"), ("key", "a b.txt"), ("sequencer", "0A1B")], "");
        assert_eq!(id(BindingKind::AwsS3, &s3, None).as_deref(), Some("a b.txt@0A1B"));
    }

    #[test]
    fn a_webhook_s_id_is_the_configured_header_github_s_delivery_or_stripe_s_event() {
        let github = event(&[("x-github-delivery", "72d3162e"), ("x-request-id", "r-9")], "{}");
        assert_eq!(id(BindingKind::Http, &github, None).as_deref(), Some("72d3162e"));
        assert_eq!(id(BindingKind::Http, &github, Some("x-request-id")).as_deref(), Some("r-9"));
        assert_eq!(id(BindingKind::Http, &github, Some("idempotency-key")), None);

        let stripe = r#"{"id":"evt_1NG8Du2eZvKYlo2CUI79vXWy","object":"event","type":"charge.succeeded"}"#;
        assert_eq!(
            id(BindingKind::Http, &event(&[("stripe-signature", "t=1,v1=00")], stripe), None).as_deref(),
            Some("evt_1NG8Du2eZvKYlo2CUI79vXWy")
        );
        // Only a Stripe request's body is read, and only a Stripe event's id taken.
        assert_eq!(id(BindingKind::Http, &event(&[], stripe), None), None);
        let charge = r#"{"id":"ch_1","object":"charge"}"#;
        assert_eq!(id(BindingKind::Http, &event(&[("stripe-signature", "t=1,v1=00")], charge), None), None);
        assert_eq!(id(BindingKind::Http, &event(&[("stripe-signature", "t=1,v1=00")], "not json"), None), None);
    }

    #[test]
    fn an_event_without_one_has_none() {
        assert_eq!(id(BindingKind::Cron, &event(&[("timeZone", "UTC")], ""), None), None);
        assert_eq!(id(BindingKind::AwsSqs, &event(&[("messageId", "")], ""), None), None);
        assert_eq!(id(BindingKind::AwsS3, &event(&[("key", "k")], ""), None), None);
    }
}
