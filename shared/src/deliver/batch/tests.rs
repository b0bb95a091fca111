use std::cell::{Cell, RefCell};
use std::time::Duration;

use serde_json::value::RawValue;

use super::*;
use crate::deliver::DeliveryErrorKind;
use crate::input::sqs::{SqsRecord, parse_record};

/// A record's JSON: FIFO when `group` is given; `body` may be any JSON.
fn raw(id: &str, group: Option<&str>, body: serde_json::Value) -> Box<RawValue> {
    let arn = if group.is_some() { "arn:aws:sqs:us-east-1:1:q.fifo" } else { "arn:aws:sqs:us-east-1:1:q" };
    let attributes = group.map_or(serde_json::json!({}), |g| serde_json::json!({ "MessageGroupId": g }));
    serde_json::value::to_raw_value(
        &serde_json::json!({"messageId": id, "body": body, "eventSourceARN": arn, "attributes": attributes}),
    )
    .unwrap()
}

fn text(id: &str, group: Option<&str>, body: &str) -> Box<RawValue> {
    raw(id, group, serde_json::Value::String(body.to_owned()))
}

fn records(raws: &[Box<RawValue>]) -> Vec<SqsRecord<'_>> {
    raws.iter().map(|r| parse_record(r).unwrap()).collect()
}

fn body(e: &BindingEvent) -> &str {
    std::str::from_utf8(&e.data).unwrap()
}

fn fail() -> DeliveryError {
    DeliveryError::new(DeliveryErrorKind::AppRejected(http::StatusCode::INTERNAL_SERVER_ERROR), "the app answered 500")
}

fn far() -> Instant {
    Instant::now() + Duration::from_secs(3600)
}

#[tokio::test]
async fn standard_queue_reports_exactly_the_failures() {
    let raws = [text("a", None, "ok"), text("b", None, "boom"), text("c", None, "ok"), text("d", None, "boom")];
    let report =
        deliver_batch(
            records(&raws),
            4,
            far(),
            |e| async move { if body(&e) == "boom" { Err(fail()) } else { Ok(()) } },
        )
        .await;
    assert_eq!(report.failed_ids(), ["b", "d"]);
    assert_eq!(report.acked(), 2);
    assert_eq!(report.outcomes[1], RecordOutcome::Failed("the app answered 500".into()));
}

#[tokio::test]
async fn concurrency_is_bounded() {
    let in_flight = Cell::new(0usize);
    let peak = Cell::new(0usize);
    let raws: Vec<_> = (0..50).map(|i| text(&i.to_string(), None, "x")).collect();
    let report = deliver_batch(records(&raws), 7, far(), |_| {
        let (in_flight, peak) = (&in_flight, &peak);
        async move {
            in_flight.set(in_flight.get() + 1);
            peak.set(peak.get().max(in_flight.get()));
            tokio::time::sleep(Duration::from_millis(2)).await;
            in_flight.set(in_flight.get() - 1);
            Ok(())
        }
    })
    .await;
    assert_eq!(report.acked(), 50);
    assert_eq!(peak.get(), 7);
}

#[tokio::test]
async fn fifo_stops_a_group_at_its_first_failure_and_other_groups_go_on() {
    let raws = [
        text("g1-1", Some("g1"), "ok"),
        text("g2-1", Some("g2"), "ok"),
        text("g1-2", Some("g1"), "boom"),
        text("g1-3", Some("g1"), "ok"),
        text("g2-2", Some("g2"), "ok"),
        text("g1-4", Some("g1"), "ok"),
    ];
    let delivered = RefCell::new(Vec::new());
    let report = deliver_batch(records(&raws), 10, far(), |e| {
        let delivered = &delivered;
        async move {
            delivered.borrow_mut().push(body(&e).to_owned());
            tokio::task::yield_now().await;
            if body(&e) == "boom" { Err(fail()) } else { Ok(()) }
        }
    })
    .await;
    assert_eq!(report.failed_ids(), ["g1-2", "g1-3", "g1-4"]);
    assert_eq!(report.outcomes[3], RecordOutcome::Skipped);
    assert_eq!(report.outcomes[5], RecordOutcome::Skipped);
    // Four deliveries: g1-3 and g1-4 never reached the app.
    assert_eq!(delivered.borrow().len(), 4);
}

#[tokio::test]
async fn fifo_keeps_order_within_a_group() {
    let raws: Vec<_> = (0..6).map(|i| text(&format!("m{i}"), Some(["a", "b"][i % 2]), &i.to_string())).collect();
    let order = RefCell::new(Vec::new());
    deliver_batch(records(&raws), 10, far(), |e| {
        let order = &order;
        async move {
            let n: u64 = body(&e).parse().unwrap();
            // Later records finish faster: only sequencing can keep them in order.
            tokio::time::sleep(Duration::from_millis(10 - n)).await;
            order.borrow_mut().push(n);
            Ok(())
        }
    })
    .await;
    let order = order.into_inner();
    let group = |parity: u64| order.iter().copied().filter(|n| n % 2 == parity).collect::<Vec<_>>();
    assert_eq!(group(0), [0, 2, 4]);
    assert_eq!(group(1), [1, 3, 5]);
}

#[tokio::test(start_paused = true)]
async fn unfinished_records_fail_at_the_deadline() {
    let raws = [text("fast", None, "1"), text("slow", None, "60000")];
    let deadline = Instant::now() + Duration::from_secs(2);
    let report = deliver_batch(records(&raws), 10, deadline, |e| async move {
        tokio::time::sleep(Duration::from_millis(body(&e).parse().unwrap())).await;
        Ok(())
    })
    .await;
    assert!(Instant::now() <= deadline + Duration::from_millis(1));
    assert_eq!(report.outcomes[0], RecordOutcome::Acked);
    assert_eq!(report.outcomes[1], RecordOutcome::Unfinished);
    assert_eq!(report.failed_ids(), ["slow"]);
}

#[tokio::test]
async fn malformed_records_fail_without_delivery_and_stop_their_group() {
    let raws = [
        raw("bad", Some("g"), serde_json::json!({"not": "a string"})),
        text("after", Some("g"), "ok"),
        text("other", Some("h"), "ok"),
    ];
    let calls = Cell::new(0);
    let report = deliver_batch(records(&raws), 10, far(), |_| {
        calls.set(calls.get() + 1);
        async { Ok(()) }
    })
    .await;
    assert_eq!(report.failed_ids(), ["bad", "after"]);
    assert!(matches!(&report.outcomes[0], RecordOutcome::Failed(r) if r.starts_with("malformed SQS record: ")));
    assert_eq!(calls.get(), 1);
}

#[tokio::test]
async fn a_fifo_record_of_unknown_group_stops_the_rest_of_the_batch() {
    let lost: Box<RawValue> = serde_json::value::to_raw_value(
        &serde_json::json!({"messageId": "x", "eventSourceARN": "arn:aws:sqs:us-east-1:1:q.fifo", "attributes": "garbage"}),
    )
    .unwrap();
    let raws = [text("a1", Some("a"), "ok"), lost, text("a2", Some("a"), "ok"), text("b1", Some("b"), "ok")];
    let delivered = Cell::new(0);
    let report = deliver_batch(records(&raws), 10, far(), |_| {
        delivered.set(delivered.get() + 1);
        async { Ok(()) }
    })
    .await;
    assert_eq!(report.failed_ids(), ["x", "a2", "b1"]);
    assert!(matches!(&report.outcomes[1], RecordOutcome::Failed(r) if r.starts_with("malformed SQS record: ")));
    assert_eq!(report.outcomes[2], RecordOutcome::Skipped);
    assert_eq!(delivered.get(), 1);
}

/// A record of a FIFO batch whose own `eventSourceARN` is missing or not a
/// FIFO queue's was taken for a standard one: delivered on its own and
/// acked, although an earlier record of its message group had failed.
#[tokio::test]
async fn a_record_of_a_fifo_batch_without_a_fifo_arn_stops_the_rest_of_the_batch() {
    let odd = |id: &str, arn: serde_json::Value| -> Box<RawValue> {
        let record = serde_json::json!({"messageId": id, "body": "ok", "eventSourceARN": arn,
            "attributes": {"MessageGroupId": "a"}});
        serde_json::value::to_raw_value(&record).unwrap()
    };
    for arn in [serde_json::Value::Null, serde_json::json!("arn:aws:sqs:us-east-1:1:q"), serde_json::json!(5)] {
        let raws = [text("a1", Some("a"), "boom"), odd("a2", arn.clone()), text("b1", Some("b"), "ok")];
        let delivered = RefCell::new(Vec::new());
        let report = deliver_batch(records(&raws), 10, far(), |e| {
            delivered.borrow_mut().push(body(&e).to_owned());
            async move { if body(&e) == "boom" { Err(fail()) } else { Ok(()) } }
        })
        .await;
        assert_eq!(report.failed_ids(), ["a1", "a2", "b1"], "eventSourceARN {arn}");
        assert_eq!(*delivered.borrow(), ["boom"], "eventSourceARN {arn}");
    }
}

#[tokio::test]
async fn empty_batch_is_empty_report() {
    let report = deliver_batch(Vec::<SqsRecord<'_>>::new(), 10, far(), |_| async { Ok(()) }).await;
    assert!(report.outcomes.is_empty() && report.failed_ids().is_empty());
}
