use std::cell::Cell;
use std::time::{Duration, SystemTime};

use super::store::MemoryStore;
use super::*;
use crate::component::Metadata;

fn answer(status: u16) -> StoredAnswer {
    StoredAnswer { status, content_type: Some("text/plain".into()), body: Bytes::from_static(b"done") }
}

fn memory(ttl: Duration) -> Idempotency {
    Idempotency::new(Store::Memory(MemoryStore::default()), ttl)
}

fn soon() -> tokio::time::Instant {
    tokio::time::Instant::now() + Duration::from_secs(30)
}

#[test]
fn the_rule_is_powertools() {
    let now = SystemTime::now();
    let later = now + Duration::from_secs(1);
    let earlier = now - Duration::from_secs(1);
    assert_eq!(decide(None, now), Decision::Deliver);
    let done = Record::Completed { answer: answer(200), expires: later };
    assert_eq!(decide(Some(&done), now), Decision::AlreadyDone(answer(200)));
    assert_eq!(decide(Some(&Record::InProgress { expires: later }), now), Decision::InProgress);
    // Expired records count as none: an abandoned delivery is made again.
    assert_eq!(decide(Some(&Record::InProgress { expires: earlier }), now), Decision::Deliver);
    let old = Record::Completed { answer: answer(200), expires: earlier };
    assert_eq!(decide(Some(&old), now), Decision::Deliver);
}

#[test]
fn keys_are_the_binding_and_the_natural_id_hashed_when_long() {
    assert_eq!(key("tasks", "m-1"), "tasks#m-1");
    let long = key("tasks", &"x".repeat(500));
    assert!(long.starts_with("tasks#sha256:") && long.len() == "tasks#sha256:".len() + 64, "{long}");
}

#[tokio::test]
async fn a_duplicate_of_an_acknowledged_delivery_is_not_delivered_and_gets_its_answer() {
    let once = memory(Duration::from_secs(60));
    let calls = Cell::new(0);
    let deliver = || async {
        calls.set(calls.get() + 1);
        Ok::<_, String>(201)
    };
    let first = once.deliver_once("tasks#m-1", soon(), deliver, |s| answer(*s)).await;
    assert_eq!(first, Ok(Once::Delivered(201)));
    let again = once.deliver_once("tasks#m-1", soon(), deliver, |s| answer(*s)).await;
    assert_eq!(again, Ok(Once::Duplicate(answer(201))));
    assert_eq!(calls.get(), 1);
    // Another id is its own.
    assert_eq!(once.deliver_once("tasks#m-2", soon(), deliver, |s| answer(*s)).await, Ok(Once::Delivered(201)));
}

#[tokio::test]
async fn a_failed_delivery_is_released_for_its_retry() {
    let once = memory(Duration::from_secs(60));
    let failed = once.deliver_once("k", soon(), || async { Err::<u16, _>("app said 500") }, |s| answer(*s)).await;
    assert_eq!(failed, Err(NotOnce::Failed("app said 500")));
    let retried = once.deliver_once("k", soon(), || async { Ok::<_, &str>(200) }, |s| answer(*s)).await;
    assert_eq!(retried, Ok(Once::Delivered(200)));
}

#[tokio::test]
async fn two_deliveries_of_one_id_at_once_call_the_app_once() {
    let once = memory(Duration::from_secs(60));
    let calls = Cell::new(0);
    let (release, wait) = tokio::sync::oneshot::channel::<()>();
    let slow = || async {
        calls.set(calls.get() + 1);
        let _ = wait.await;
        Ok::<_, String>(200)
    };
    let first = once.deliver_once("k", soon(), slow, |s| answer(*s));
    let second = async {
        // While the first is in the app, the second finds it in progress.
        let result = once.deliver_once("k", soon(), || async { Ok::<_, String>(200) }, |s| answer(*s)).await;
        let _ = release.send(());
        result
    };
    let (first, second) = tokio::join!(first, second);
    assert_eq!(first, Ok(Once::Delivered(200)));
    assert_eq!(second, Err(NotOnce::InProgress("k".into())));
    assert_eq!(calls.get(), 1);
}

#[tokio::test]
async fn an_abandoned_delivery_is_made_again_once_its_deadline_passed() {
    // A crash between the app's answer and the COMPLETED write leaves an
    // IN_PROGRESS record: once its deadline passed, the event is delivered
    // once more, never zero times.
    let store_only = Store::Memory(MemoryStore::default());
    let now = SystemTime::now();
    assert_eq!(
        store_only.begin("k", now, now + Duration::from_millis(20), Duration::from_secs(60)).await,
        Ok(Begun::Started)
    );
    assert!(matches!(
        store_only.begin("k", now, now, Duration::from_secs(60)).await,
        Ok(Begun::Found(Record::InProgress { .. }))
    ));
    let later = now + Duration::from_millis(30);
    assert_eq!(
        store_only.begin("k", later, later + Duration::from_secs(1), Duration::from_secs(60)).await,
        Ok(Begun::Started)
    );
}

#[tokio::test]
async fn an_expired_answer_is_forgotten() {
    let once = memory(Duration::from_millis(10));
    assert_eq!(
        once.deliver_once("k", soon(), || async { Ok::<_, ()>(1) }, |_| answer(200)).await,
        Ok(Once::Delivered(1))
    );
    tokio::time::sleep(Duration::from_millis(20)).await;
    assert_eq!(
        once.deliver_once("k", soon(), || async { Ok::<_, ()>(2) }, |_| answer(200)).await,
        Ok(Once::Delivered(2))
    );
}

#[test]
fn the_component_turns_it_on_and_names_its_table() {
    let config =
        |pairs: &[(&str, &str)]| IdempotencyConfig::from_metadata(&Metadata::from_pairs(pairs.iter().copied()));
    assert_eq!(config(&[]), Ok(None));
    assert_eq!(config(&[("idempotency", "none")]), Ok(None));
    let dynamodb = config(&[("idempotency", "dynamodb"), ("idempotencyTable", "seen"), ("idempotencyTtl", "2h")]);
    assert_eq!(
        dynamodb,
        Ok(Some(IdempotencyConfig {
            store: StoreKind::DynamoDb { table: "seen".into() },
            ttl: Duration::from_secs(7200),
            header: None,
        }))
    );
    assert_eq!(config(&[("idempotency", "memory")]).unwrap().unwrap().ttl, Duration::from_secs(3600));
    let errors = config(&[("idempotency", "dynamodb")]).unwrap_err();
    assert_eq!(errors[0].field, "idempotencyTable");
    let errors = config(&[("idempotency", "redis")]).unwrap_err();
    assert_eq!(errors[0].field, "idempotency");
    let errors = config(&[("idempotency", "memory"), ("idempotencyTtl", "soon")]).unwrap_err();
    assert_eq!(errors[0].field, "idempotencyTtl");
    let header = config(&[("idempotency", "memory"), ("idempotencyHeader", "Idempotency-Key")]);
    assert_eq!(header.unwrap().unwrap().header.as_deref(), Some("idempotency-key"));
    let errors = config(&[("idempotency", "memory"), ("idempotencyHeader", "no spaces")]).unwrap_err();
    assert_eq!(errors[0].field, "idempotencyHeader");
}

#[test]
fn the_loader_checks_an_input_binding_s_idempotency_fields() {
    use crate::component::{BindingKind, ComponentKind, Directions};
    let metadata = Metadata::from_pairs([("queueName", "tasks"), ("idempotency", "dynamodb")]);
    let sqs = ComponentKind::Binding(BindingKind::AwsSqs);
    let errors = crate::kinds::check(sqs, &metadata, Directions::implied(true, false));
    assert_eq!(errors.iter().map(|e| e.field.as_str()).collect::<Vec<_>>(), ["idempotencyTable"]);
    // An output-only binding's deliveries are not its to deduplicate.
    assert!(crate::kinds::check(sqs, &metadata, Directions::implied(false, true)).is_empty());
}
