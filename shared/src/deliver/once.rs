//! A record's delivery with its binding's idempotency
//! ([`crate::idempotency`]): once per natural id, or as it comes when the
//! binding has none.

use super::{Deliverer, DeliveryError, DeliveryErrorKind};
use crate::component::BindingKind;
use crate::idempotency::{Idempotency, NotOnce, Once, StoredAnswer, key};
use crate::input::BindingEvent;
use std::borrow::Cow;

/// Delivers `event`, a record of a `kind` source, with no deadline of its
/// own. With idempotency, once per natural id: a duplicate of one
/// acknowledged before is acknowledged without being delivered
/// (`Ok(true)`), and what idempotency holds back is reported failed, so the
/// source redelivers it. An event without an id is delivered as it comes.
pub async fn deliver_record(
    once: Option<&Idempotency>,
    deliverer: &Deliverer,
    binding: &str,
    kind: BindingKind,
    event: BindingEvent,
    deadline: tokio::time::Instant,
) -> Result<bool, DeliveryError> {
    let Some((once, id)) = once.and_then(|once| Some((once, once.id_of(kind, &event).map(Cow::into_owned)?))) else {
        return deliverer.deliver_untimed(event).await.map(|()| false);
    };
    let acked = |_: &()| StoredAnswer { status: 200, ..StoredAnswer::default() };
    match once.deliver_once(&key(binding, &id), deadline, || deliverer.deliver_untimed(event), acked).await {
        Ok(Once::Delivered(())) => Ok(false),
        Ok(Once::Duplicate(_)) => {
            tracing::info!(binding = %binding, id = %id, "a duplicate of a delivered event: acknowledged without delivery");
            Ok(true)
        }
        Err(NotOnce::Failed(e)) => Err(e),
        Err(held_back) => Err(DeliveryError::new(DeliveryErrorKind::Idempotency, held_back.to_string())),
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use bytes::Bytes;

    use super::*;
    use crate::idempotency::Store;
    use crate::idempotency::store::MemoryStore;

    fn soon() -> tokio::time::Instant {
        tokio::time::Instant::now() + Duration::from_secs(30)
    }

    /// A real app on loopback answering `status`, counting its requests.
    async fn counting_app(status: u16) -> (String, std::sync::Arc<std::sync::atomic::AtomicUsize>) {
        use std::sync::Arc;
        use std::sync::atomic::{AtomicUsize, Ordering};
        let count = Arc::new(AtomicUsize::new(0));
        let counted = count.clone();
        let router = axum::Router::new().route(
            "/tasks",
            axum::routing::post(move || {
                let counted = counted.clone();
                async move {
                    counted.fetch_add(1, Ordering::SeqCst);
                    http::StatusCode::from_u16(status).unwrap()
                }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, router).await });
        (url, count)
    }

    fn record(id: &str) -> BindingEvent {
        BindingEvent {
            data: Bytes::from_static(b"{}"),
            metadata: vec![("messageId".into(), id.to_owned())],
            traceparent: None,
        }
    }

    #[tokio::test]
    async fn a_redelivered_record_reaches_the_app_once_and_a_refused_one_again() {
        use std::sync::atomic::Ordering;
        let (url, count) = counting_app(204).await;
        let deliverer = Deliverer::new(super::super::App::http(&url).unwrap(), "/tasks", None).unwrap();
        let once = Idempotency::new(Store::Memory(MemoryStore::default()), Duration::from_secs(60));
        let once = Some(&once);
        let first = deliver_record(once, &deliverer, "tasks", BindingKind::AwsSqs, record("m-1"), soon()).await;
        let again = deliver_record(once, &deliverer, "tasks", BindingKind::AwsSqs, record("m-1"), soon()).await;
        assert_eq!((first, again), (Ok(false), Ok(true)));
        assert_eq!(count.load(Ordering::SeqCst), 1);

        let (url, refused) = counting_app(500).await;
        let refusing = Deliverer::new(super::super::App::http(&url).unwrap(), "/tasks", None).unwrap();
        for _ in 0..2 {
            let error =
                deliver_record(once, &refusing, "tasks", BindingKind::AwsSqs, record("m-2"), soon()).await.unwrap_err();
            assert_eq!(error.kind, DeliveryErrorKind::AppRejected(http::StatusCode::INTERNAL_SERVER_ERROR));
        }
        assert_eq!(refused.load(Ordering::SeqCst), 2, "a refused delivery is not remembered");
    }
}
