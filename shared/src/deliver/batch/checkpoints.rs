//! Property tests of Lambda's checkpoint semantics over random Kinesis
//! batches: shards, failures, malformed records, slow records, deadlines.
//! Time is tokio's paused clock, as in props.rs.
//!
//! The invariants (issue 17): nothing after a shard's first failure is
//! acknowledged (or even delivered); the sequence number reported for a
//! shard is its first failure's, and a shard without one is not reported;
//! a shard's records reach the app in order.

use std::cell::RefCell;
use std::time::Duration;

use proptest::prelude::*;
use serde_json::json;
use serde_json::value::RawValue;
use tokio::time::Instant;

use super::*;
use crate::deliver::DeliveryErrorKind;
use crate::input::kinesis::{KinesisRecord, parse_record};

#[derive(Debug, Clone)]
struct Spec {
    shard: u8,
    delay_ms: u64,
    fails: bool,
    /// `data` is not base64: the record cannot become an event.
    malformed: bool,
}

fn spec() -> impl Strategy<Value = Spec> {
    let delay = prop_oneof![Just(0u64), 1u64..50, 50u64..3000];
    (0u8..3, delay, prop::bool::weighted(0.15), prop::bool::weighted(0.05))
        .prop_map(|(shard, delay_ms, fails, malformed)| Spec { shard, delay_ms, fails, malformed })
}

/// A 129-digit sequence number ending in the record's index: too long for
/// any integer type, and increasing through the batch.
fn sequence(index: usize) -> String {
    format!("4{index:0>128}")
}

fn raw(index: usize, spec: &Spec) -> Box<RawValue> {
    let data = if spec.malformed {
        "%%%".to_owned()
    } else {
        base64::Engine::encode(&base64::engine::general_purpose::STANDARD, index.to_string())
    };
    let record = json!({
        "eventID": format!("shardId-00000000000{}:{}", spec.shard, sequence(index)),
        "kinesis": {"sequenceNumber": sequence(index), "partitionKey": "k", "data": data, "approximateArrivalTimestamp": 1.5},
    });
    serde_json::value::to_raw_value(&record).unwrap_or_else(|e| panic!("{e}"))
}

fn check(specs: &[Spec], deadline_ms: u64) -> Result<(), TestCaseError> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .start_paused(true)
        .build()
        .unwrap_or_else(|e| panic!("{e}"));
    let raws: Vec<Box<RawValue>> = specs.iter().enumerate().map(|(i, s)| raw(i, s)).collect();
    let records: Vec<KinesisRecord<'_>> =
        raws.iter().map(|r| parse_record(r).unwrap_or_else(|e| panic!("{e:?}"))).collect();
    let delivered = RefCell::new(Vec::new());
    let report = runtime.block_on(async {
        let deadline = Instant::now() + Duration::from_millis(deadline_ms);
        deliver_batch(records, 16, deadline, |event| {
            let index: usize = std::str::from_utf8(&event.data).ok().and_then(|s| s.parse().ok()).unwrap_or(usize::MAX);
            delivered.borrow_mut().push(index);
            let spec = specs.get(index).cloned();
            async move {
                let spec = spec.unwrap_or_else(|| panic!("delivered a record that was not in the batch: {index}"));
                tokio::time::sleep(Duration::from_millis(spec.delay_ms)).await;
                let status = http::StatusCode::INTERNAL_SERVER_ERROR;
                if spec.fails { Err(DeliveryError::new(DeliveryErrorKind::AppRejected(status), "500")) } else { Ok(()) }
            }
        })
        .await
    });
    let delivered = delivered.into_inner();
    let checkpoints = report.checkpoints();
    for shard in 0..3u8 {
        let members: Vec<usize> = (0..specs.len()).filter(|&i| specs[i].shard == shard).collect();
        // In order, and a prefix of the shard.
        let seen: Vec<usize> =
            delivered.iter().copied().filter(|&i| specs.get(i).is_some_and(|s| s.shard == shard)).collect();
        prop_assert_eq!(&seen[..], &members[..seen.len()], "shard {} out of order", shard);
        let first_failure = members.iter().position(|&i| report.outcomes[i] != RecordOutcome::Acked);
        let reported: Vec<String> =
            checkpoints.iter().filter(|c| members.iter().any(|&i| sequence(i) == **c)).cloned().collect();
        match first_failure {
            None => prop_assert!(reported.is_empty(), "shard {} fully acked, yet reported {:?}", shard, reported),
            Some(at) => {
                // Exactly the first failure's sequence number.
                prop_assert_eq!(reported, vec![sequence(members[at])], "shard {}", shard);
                for &later in &members[at + 1..] {
                    prop_assert!(
                        report.outcomes[later] != RecordOutcome::Acked,
                        "shard {}: {} acked after a failure",
                        shard,
                        later
                    );
                    prop_assert!(!seen.contains(&later), "shard {}: {} delivered after a failure", shard, later);
                }
                // What made it fail: the app, a malformed record, or the deadline.
                let spec = &specs[members[at]];
                prop_assert!(spec.fails || spec.malformed || report.outcomes[members[at]] == RecordOutcome::Unfinished);
            }
        }
        // A record acked is one the app acked.
        for &i in &members {
            if report.outcomes[i] == RecordOutcome::Acked {
                prop_assert!(!specs[i].fails && !specs[i].malformed && seen.contains(&i));
            }
        }
    }
    // Nothing else is reported.
    let shards_failed = (0..3u8)
        .filter(|&s| (0..specs.len()).any(|i| specs[i].shard == s && report.outcomes[i] != RecordOutcome::Acked))
        .count();
    prop_assert_eq!(checkpoints.len(), shards_failed);
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 500, ..ProptestConfig::default() })]

    #[test]
    fn nothing_after_a_shards_first_failure_is_acked_and_that_failure_is_the_checkpoint(
        specs in prop::collection::vec(spec(), 0..60),
        deadline_ms in 0u64..8000,
    ) {
        check(&specs, deadline_ms)?;
    }
}

#[test]
fn a_record_whose_shard_is_unknown_stops_the_batch_and_is_its_own_checkpoint() {
    let raws = [
        raw(0, &Spec { shard: 0, delay_ms: 0, fails: false, malformed: false }),
        serde_json::value::to_raw_value(&json!({"kinesis": {"sequenceNumber": sequence(1), "data": "MQ=="}})).unwrap(),
        raw(2, &Spec { shard: 1, delay_ms: 0, fails: false, malformed: false }),
        raw(3, &Spec { shard: 0, delay_ms: 0, fails: false, malformed: false }),
    ];
    let records: Vec<KinesisRecord<'_>> = raws.iter().map(|r| parse_record(r).unwrap()).collect();
    let runtime = tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap();
    let report =
        runtime.block_on(deliver_batch(records, 4, Instant::now() + Duration::from_secs(60), |_| async { Ok(()) }));
    assert_eq!(report.outcomes[0], RecordOutcome::Acked);
    assert!(matches!(report.outcomes[1], RecordOutcome::Failed(_)));
    assert_eq!(report.outcomes[2..], [RecordOutcome::Skipped, RecordOutcome::Skipped]);
    // The unknown record, and the first record of each shard after it.
    assert_eq!(report.checkpoints(), [sequence(1), sequence(2), sequence(3)]);
}
