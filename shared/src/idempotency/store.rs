//! Where idempotency records are kept: DynamoDB on Lambda
//! ([`DynamoDbStore`]), the process's memory in `bindery run`. Both `begin`s
//! are a compare-and-set: of two deliveries of one id at once, exactly one
//! starts.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, SystemTime};

pub use super::dynamodb::DynamoDbStore;
use super::{Begun, Decision, Record, StoreError, StoredAnswer, decide};

/// The stores.
#[derive(Debug)]
pub enum Store {
    Memory(MemoryStore),
    DynamoDb(Box<DynamoDbStore>),
}

impl Store {
    /// Marks `key` in progress until `until`, unless a live record holds
    /// it; a record left behind is dropped after `ttl`.
    pub async fn begin(
        &self,
        key: &str,
        now: SystemTime,
        until: SystemTime,
        ttl: Duration,
    ) -> Result<Begun, StoreError> {
        match self {
            Store::Memory(store) => Ok(store.begin(key, now, until)),
            Store::DynamoDb(store) => store.begin(key, now, until, ttl).await,
        }
    }

    /// Records the answer of an acknowledged delivery, kept until `expires`.
    pub async fn complete(&self, key: &str, answer: StoredAnswer, expires: SystemTime) -> Result<(), StoreError> {
        match self {
            Store::Memory(store) => {
                store.set(key, Record::Completed { answer, expires });
                Ok(())
            }
            Store::DynamoDb(store) => store.complete(key, &answer, expires).await,
        }
    }

    /// Forgets a delivery that failed, so that its retry is delivered.
    pub async fn release(&self, key: &str) -> Result<(), StoreError> {
        match self {
            Store::Memory(store) => {
                store.remove(key);
                Ok(())
            }
            Store::DynamoDb(store) => store.release(key).await,
        }
    }
}

/// Records in the process's memory. Expired ones are dropped as the map
/// grows, so it holds about what the TTL keeps.
#[derive(Debug, Default)]
pub struct MemoryStore {
    records: Mutex<HashMap<String, Record>>,
}

impl MemoryStore {
    fn records(&self) -> std::sync::MutexGuard<'_, HashMap<String, Record>> {
        self.records.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn begin(&self, key: &str, now: SystemTime, until: SystemTime) -> Begun {
        let mut records = self.records();
        if let Some(found) = records.get(key)
            && decide(Some(found), now) != Decision::Deliver
        {
            return Begun::Found(found.clone());
        }
        if records.len() >= 1024 && records.len().is_power_of_two() {
            records.retain(|_, record| decide(Some(record), now) != Decision::Deliver);
        }
        records.insert(key.to_owned(), Record::InProgress { expires: until });
        Begun::Started
    }

    fn set(&self, key: &str, record: Record) {
        self.records().insert(key.to_owned(), record);
    }

    fn remove(&self, key: &str) {
        self.records().remove(key);
    }
}
