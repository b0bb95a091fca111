//! Property tests of the SQS fan-out over random batches: sizes, FIFO
//! groups, failure patterns, malformed records, slow records, concurrency
//! limits and deadlines. Time is tokio's paused clock, so a case with
//! minutes of simulated delays runs in microseconds and always the same way.
//!
//! The invariants (RELIABILITY.md): every record is either acknowledged or
//! reported, never both; a record is acknowledged only when the app acked it
//! in time; no record after a FIFO group's first failure is delivered; order
//! within a group is kept; the answer comes by the deadline; no more than
//! the limit are in flight.

use std::cell::{Cell, RefCell};
use std::collections::HashSet;
use std::time::Duration;

use proptest::prelude::*;
use serde_json::json;
use serde_json::value::RawValue;
use tokio::time::Instant;

use super::*;
use crate::deliver::{DeliveryErrorKind, build_request};
use crate::input::sqs::{SqsRecord, parse_record};

/// One record of a generated batch.
#[derive(Debug, Clone)]
struct Spec {
    group: u8,
    /// How long the app takes to answer.
    delay_ms: u64,
    /// The app answers 500.
    fails: bool,
    /// The body is not a string: the record cannot become an event.
    malformed: bool,
    /// A String attribute's value: any text SQS allows, control
    /// characters (tab, LF, CR, DEL) and edge spaces included.
    attribute: String,
}

#[derive(Debug, Clone)]
struct Case {
    fifo: bool,
    records: Vec<Spec>,
    limit: usize,
    deadline_ms: u64,
}

fn spec() -> impl Strategy<Value = Spec> {
    let delay = prop_oneof![Just(0u64), 1u64..50, 50u64..5000];
    // SQS's allowed characters: #x9, #xA, #xD, #x20 to #xD7FF, #xE000 to #xFFFD, #x10000 to #x10FFFF.
    let attribute =
        prop_oneof!["[\t\n\r\x7f a-z]{0,8}", "[\t\n\r\x20-\u{d7ff}\u{e000}-\u{fffd}\u{10000}-\u{10ffff}]{0,16}"];
    (0u8..4, delay, prop::bool::weighted(0.2), prop::bool::weighted(0.05), attribute).prop_map(
        |(group, delay_ms, fails, malformed, attribute)| Spec { group, delay_ms, fails, malformed, attribute },
    )
}

fn case() -> impl Strategy<Value = Case> {
    (any::<bool>(), prop::collection::vec(spec(), 0..80), 1usize..24, 0u64..6000)
        .prop_map(|(fifo, records, limit, deadline_ms)| Case { fifo, records, limit, deadline_ms })
}

fn raw(index: usize, spec: &Spec, fifo: bool) -> Box<RawValue> {
    let arn = if fifo { "arn:aws:sqs:us-east-1:1:q.fifo" } else { "arn:aws:sqs:us-east-1:1:q" };
    let attributes = if fifo { json!({ "MessageGroupId": format!("g{}", spec.group) }) } else { json!({}) };
    let body = if spec.malformed { json!({ "not": "a string" }) } else { json!(index.to_string()) };
    let record = json!({
        "messageId": format!("m{index}"),
        "body": body,
        "eventSourceARN": arn,
        "attributes": attributes,
        "messageAttributes": { "note": { "stringValue": spec.attribute, "dataType": "String" } },
    });
    serde_json::value::to_raw_value(&record).unwrap_or_else(|e| panic!("{e}"))
}

/// What the app saw of one delivery.
#[derive(Debug, Clone, Copy)]
struct Call {
    index: usize,
    started_ms: u64,
}

fn check(case: &Case) -> Result<(), TestCaseError> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .start_paused(true)
        .build()
        .unwrap_or_else(|e| panic!("{e}"));
    let raws: Vec<Box<RawValue>> = case.records.iter().enumerate().map(|(i, s)| raw(i, s, case.fifo)).collect();
    let records: Vec<SqsRecord<'_>> =
        raws.iter().map(|r| parse_record(r).unwrap_or_else(|e| panic!("{e:?}"))).collect();
    let calls = RefCell::new(Vec::new());
    let mangled = RefCell::new(Vec::new());
    let (in_flight, peak) = (Cell::new(0usize), Cell::new(0usize));
    let (report, elapsed_ms) = runtime.block_on(async {
        let start = Instant::now();
        let deadline = start + Duration::from_millis(case.deadline_ms);
        let report = deliver_batch(records, case.limit, deadline, |event| {
            let index: usize = std::str::from_utf8(&event.data).ok().and_then(|s| s.parse().ok()).unwrap_or(usize::MAX);
            // What the app would receive: no attribute may make the request
            // unbuildable, and the app gets the value back exactly.
            let request =
                build_request(&http::Uri::from_static("/q"), event, None, crate::deliver::DEFAULT_METADATA_LIMIT);
            let received = request.as_ref().ok().and_then(|r| attribute_received(r.headers()));
            let expected = case.records.get(index).map(|s| s.attribute.clone());
            if received != expected {
                mangled.borrow_mut().push((index, received));
            }
            calls.borrow_mut().push(Call { index, started_ms: start.elapsed().as_millis() as u64 });
            in_flight.set(in_flight.get() + 1);
            peak.set(peak.get().max(in_flight.get()));
            let spec = case.records.get(index).cloned();
            let in_flight = &in_flight;
            async move {
                let spec = spec.unwrap_or_else(|| panic!("delivered a record that was not in the batch: {index}"));
                tokio::time::sleep(Duration::from_millis(spec.delay_ms)).await;
                in_flight.set(in_flight.get() - 1);
                let status = http::StatusCode::INTERNAL_SERVER_ERROR;
                if spec.fails { Err(DeliveryError::new(DeliveryErrorKind::AppRejected(status), "500")) } else { Ok(()) }
            }
        })
        .await;
        (report, start.elapsed().as_millis() as u64)
    });
    let calls = calls.into_inner();
    let n = case.records.len();
    prop_assert_eq!(mangled.into_inner(), vec![], "(record, what the app got of its attribute)");

    // Every record is in the report, once, in batch order.
    let ids: Vec<String> = (0..n).map(|i| format!("m{i}")).collect();
    prop_assert_eq!(report.ids.iter().map(|id| id.to_string()).collect::<Vec<_>>(), ids.clone());
    // acked ∩ reported = ∅ and acked ∪ reported = the batch.
    let failed: HashSet<String> = report.failed_ids().into_iter().collect();
    let acked: HashSet<String> =
        report.iter().filter(|(_, o)| **o == RecordOutcome::Acked).map(|(id, _)| id.to_owned()).collect();
    prop_assert!(failed.is_disjoint(&acked));
    prop_assert_eq!(failed.len() + acked.len(), n);

    // Acknowledged only when the app acknowledged it before the deadline; and
    // a successful delivery that ended well before the deadline is acknowledged.
    for (i, spec) in case.records.iter().enumerate() {
        let call = calls.iter().find(|c| c.index == i);
        let outcome = &report.outcomes[i];
        if *outcome == RecordOutcome::Acked {
            prop_assert!(!spec.fails && !spec.malformed && call.is_some(), "m{} acked: {:?}", i, spec);
            prop_assert!(call.map(|c| c.started_ms + spec.delay_ms).unwrap_or(u64::MAX) <= case.deadline_ms);
        }
        if let Some(call) = call
            && !spec.fails
            && call.started_ms + spec.delay_ms < case.deadline_ms
        {
            prop_assert_eq!(
                outcome,
                &RecordOutcome::Acked,
                "m{} finished at {} ms",
                i,
                call.started_ms + spec.delay_ms
            );
        }
        if spec.malformed {
            // Reported, never delivered: failed as malformed, or unfinished if the deadline came first.
            prop_assert!(call.is_none() && *outcome != RecordOutcome::Acked, "m{}: {:?}", i, outcome);
        }
        if !case.fifo {
            prop_assert!(*outcome != RecordOutcome::Skipped);
        }
    }

    // FIFO: per group, the delivered records are a prefix of the group, in
    // order, and nothing follows the group's first record that was not acked.
    if case.fifo {
        for group in 0..4u8 {
            let members: Vec<usize> = (0..n).filter(|&i| case.records[i].group == group).collect();
            let delivered: Vec<usize> =
                calls.iter().map(|c| c.index).filter(|&i| case.records[i].group == group).collect();
            prop_assert_eq!(&delivered[..], &members[..delivered.len()], "group {} out of order", group);
            if let Some(first_failure) = members.iter().position(|&i| report.outcomes[i] != RecordOutcome::Acked) {
                prop_assert!(delivered.len() <= first_failure + 1, "group {} went on after a failure", group);
                for &later in &members[first_failure + 1..] {
                    prop_assert!(report.outcomes[later] != RecordOutcome::Acked);
                }
            }
        }
    }

    // The answer comes by the deadline, with at most `limit` in flight.
    prop_assert!(elapsed_ms <= case.deadline_ms, "answered at {} ms, deadline {} ms", elapsed_ms, case.deadline_ms);
    prop_assert!(peak.get() <= case.limit, "{} in flight, limit {}", peak.get(), case.limit);
    Ok(())
}

/// The `note` attribute as the app reads it: its header, or its starred
/// header percent-decoded (deliver/request.rs).
fn attribute_received(headers: &http::HeaderMap) -> Option<String> {
    if let Some(plain) = headers.get("attr-note") {
        return String::from_utf8(plain.as_bytes().to_vec()).ok();
    }
    let encoded = headers.get("attr-note*")?.to_str().ok()?.strip_prefix("UTF-8''")?;
    percent_encoding::percent_decode_str(encoded).decode_utf8().ok().map(|v| v.into_owned())
}

/// How many random batches each run tries (RELIABILITY.md).
const CASES: u32 = 1000;

proptest! {
    #![proptest_config(ProptestConfig { cases: CASES, ..ProptestConfig::default() })]

    #[test]
    fn every_record_is_acked_or_reported_and_fifo_groups_stop_at_their_first_failure(case in case()) {
        check(&case)?;
    }
}
