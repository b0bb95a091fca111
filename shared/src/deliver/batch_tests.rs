use std::cell::{Cell, RefCell};
use std::time::Duration;

use bytes::Bytes;

use super::*;
use crate::deliver::DeliveryErrorKind;
use crate::input::InputError;

fn record(id: &str, group: Option<&str>, fifo: bool, body: &str) -> SqsRecord {
    SqsRecord {
        message_id: id.to_owned(),
        group: group.map_or(crate::input::sqs::Group::None, |g| crate::input::sqs::Group::Id(g.to_owned())),
        fifo,
        event: Ok(BindingEvent { data: Bytes::from(body.to_owned()), ..Default::default() }),
    }
}

fn fail() -> DeliveryError {
    DeliveryError::new(DeliveryErrorKind::AppRejected(http::StatusCode::INTERNAL_SERVER_ERROR), "the app answered 500")
}

fn far() -> Instant {
    Instant::now() + Duration::from_secs(3600)
}

#[tokio::test]
async fn standard_queue_reports_exactly_the_failures() {
    let records = vec![
        record("a", None, false, "ok"),
        record("b", None, false, "boom"),
        record("c", None, false, "ok"),
        record("d", None, false, "boom"),
    ];
    let report =
        deliver_batch(records, 4, far(), |e| async move { if &e.data[..] == b"boom" { Err(fail()) } else { Ok(()) } })
            .await;
    assert_eq!(report.failed_ids(), ["b", "d"]);
    assert_eq!(report.acked(), 2);
    assert_eq!(report.outcomes[1].1, RecordOutcome::Failed("the app answered 500".into()));
}

#[tokio::test]
async fn concurrency_is_bounded() {
    let in_flight = Cell::new(0usize);
    let peak = Cell::new(0usize);
    let records = (0..50).map(|i| record(&i.to_string(), None, false, "x")).collect();
    let report = deliver_batch(records, 7, far(), |_| {
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
    let records = vec![
        record("g1-1", Some("g1"), true, "ok"),
        record("g2-1", Some("g2"), true, "ok"),
        record("g1-2", Some("g1"), true, "boom"),
        record("g1-3", Some("g1"), true, "ok"),
        record("g2-2", Some("g2"), true, "ok"),
        record("g1-4", Some("g1"), true, "ok"),
    ];
    let delivered = RefCell::new(Vec::new());
    let report = deliver_batch(records, 10, far(), |e| {
        let delivered = &delivered;
        async move {
            delivered.borrow_mut().push(String::from_utf8(e.data.to_vec()).unwrap());
            tokio::task::yield_now().await;
            if &e.data[..] == b"boom" { Err(fail()) } else { Ok(()) }
        }
    })
    .await;
    assert_eq!(report.failed_ids(), ["g1-2", "g1-3", "g1-4"]);
    assert_eq!(report.outcomes[3].1, RecordOutcome::Skipped);
    assert_eq!(report.outcomes[5].1, RecordOutcome::Skipped);
    // Four deliveries: g1-3 and g1-4 never reached the app.
    assert_eq!(delivered.borrow().len(), 4);
}

#[tokio::test]
async fn fifo_keeps_order_within_a_group() {
    let records: Vec<_> =
        (0..6).map(|i| record(&format!("m{i}"), Some(["a", "b"][i % 2]), true, &i.to_string())).collect();
    let order = RefCell::new(Vec::new());
    deliver_batch(records, 10, far(), |e| {
        let order = &order;
        async move {
            let n: u64 = std::str::from_utf8(&e.data).unwrap().parse().unwrap();
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
    let records = vec![record("fast", None, false, "1"), record("slow", None, false, "60000")];
    let deadline = Instant::now() + Duration::from_secs(2);
    let report = deliver_batch(records, 10, deadline, |e| async move {
        let ms: u64 = std::str::from_utf8(&e.data).unwrap().parse().unwrap();
        tokio::time::sleep(Duration::from_millis(ms)).await;
        Ok(())
    })
    .await;
    assert!(Instant::now() <= deadline + Duration::from_millis(1));
    assert_eq!(report.outcomes[0].1, RecordOutcome::Acked);
    assert_eq!(report.outcomes[1].1, RecordOutcome::Unfinished);
    assert_eq!(report.failed_ids(), ["slow"]);
}

#[tokio::test]
async fn malformed_records_fail_without_delivery() {
    let mut bad = record("bad", Some("g"), true, "");
    bad.event = Err(InputError::new("malformed SQS record: invalid type"));
    let records = vec![bad, record("after", Some("g"), true, "ok"), record("other", Some("h"), true, "ok")];
    let calls = Cell::new(0);
    let report = deliver_batch(records, 10, far(), |_| {
        calls.set(calls.get() + 1);
        async { Ok(()) }
    })
    .await;
    assert_eq!(report.failed_ids(), ["bad", "after"]);
    assert_eq!(calls.get(), 1);
}

#[tokio::test]
async fn a_fifo_record_of_unknown_group_stops_the_rest_of_the_batch() {
    let mut lost = record("x", None, true, "");
    lost.group = crate::input::sqs::Group::Unknown;
    lost.event = Err(InputError::new("malformed SQS record: attributes"));
    let records = vec![
        record("a1", Some("a"), true, "ok"),
        lost,
        record("a2", Some("a"), true, "ok"),
        record("b1", Some("b"), true, "ok"),
    ];
    let delivered = RefCell::new(Vec::new());
    let report = deliver_batch(records, 10, far(), |e| {
        delivered.borrow_mut().push(e.data.clone());
        async { Ok(()) }
    })
    .await;
    assert_eq!(report.failed_ids(), ["x", "a2", "b1"]);
    assert_eq!(report.outcomes[1].1, RecordOutcome::Failed("malformed SQS record: attributes".into()));
    assert_eq!(report.outcomes[2].1, RecordOutcome::Skipped);
    assert_eq!(delivered.borrow().len(), 1);
}

#[tokio::test]
async fn empty_batch_is_empty_report() {
    let report = deliver_batch(Vec::new(), 10, far(), |_| async { Ok(()) }).await;
    assert!(report.outcomes.is_empty() && report.failed_ids().is_empty());
}
