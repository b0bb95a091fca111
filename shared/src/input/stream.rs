//! What the stream sources (Kinesis, DynamoDB Streams) share: where a new
//! reader starts in a shard, and how many records a batch holds, for
//! `bindery infra`'s event source mapping and `bindery run`'s poller alike.

use crate::component::{FieldError, Metadata};

/// Where reading a shard starts when nothing was read from it before:
/// Lambda's `StartingPosition` (reference §3.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StartingPosition {
    /// The oldest record still in the stream: nothing written before the
    /// reader started is missed. The default.
    TrimHorizon,
    /// Only records written from now on.
    Latest,
}

impl StartingPosition {
    /// The name AWS uses (`ShardIteratorType`, the ESM's `StartingPosition`).
    pub const fn as_str(self) -> &'static str {
        match self {
            StartingPosition::TrimHorizon => "TRIM_HORIZON",
            StartingPosition::Latest => "LATEST",
        }
    }
}

/// `startingPosition` and `batchSize`, bindery's own fields of a stream input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StreamSettings {
    pub starting_position: StartingPosition,
    /// Records per invocation, 1 to 10,000 (Lambda's range); 100 by default
    /// (Lambda's default for both sources).
    pub batch_size: u32,
}

impl StreamSettings {
    pub fn from_metadata(metadata: &Metadata) -> Result<Self, Vec<FieldError>> {
        let mut errors = Vec::new();
        let starting_position = match metadata.get("startingPosition").map(str::trim) {
            None => StartingPosition::TrimHorizon,
            Some(p) if p.eq_ignore_ascii_case("TRIM_HORIZON") => StartingPosition::TrimHorizon,
            Some(p) if p.eq_ignore_ascii_case("LATEST") => StartingPosition::Latest,
            Some(p) => {
                errors.push(FieldError::invalid(
                    "startingPosition",
                    format!("expected TRIM_HORIZON or LATEST, got {p:?}"),
                ));
                StartingPosition::TrimHorizon
            }
        };
        let batch_size = match metadata.u64("batchSize") {
            Ok(None) => 100,
            Ok(Some(n)) if (1..=10_000).contains(&n) => n as u32,
            Ok(Some(n)) => {
                errors.push(FieldError::invalid("batchSize", format!("expected 1 to 10000, got {n}")));
                100
            }
            Err(e) => {
                errors.push(e);
                100
            }
        };
        if errors.is_empty() { Ok(Self { starting_position, batch_size }) } else { Err(errors) }
    }
}

/// A name of 1 to `max` characters of `a-z A-Z 0-9 _ . -`: Kinesis stream
/// and DynamoDB table names (255 for tables, 128 for streams; tables need 3).
pub(crate) fn check_name(field: &str, what: &str, name: &str, min: usize, max: usize) -> Result<(), FieldError> {
    let valid = (min..=max).contains(&name.len())
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'));
    if valid {
        Ok(())
    } else {
        Err(FieldError::invalid(
            field,
            format!("expected a {what} ({min} to {max} letters, digits, _, . and -), got {name:?}"),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_and_bounds() {
        let none = StreamSettings::from_metadata(&Metadata::from_pairs([])).unwrap();
        assert_eq!(none, StreamSettings { starting_position: StartingPosition::TrimHorizon, batch_size: 100 });
        let set = Metadata::from_pairs([("startingPosition", "latest"), ("batchSize", "10000")]);
        let set = StreamSettings::from_metadata(&set).unwrap();
        assert_eq!((set.starting_position.as_str(), set.batch_size), ("LATEST", 10_000));
        let bad = Metadata::from_pairs([("startingPosition", "AT_TIMESTAMP"), ("batchSize", "0")]);
        let fields: Vec<String> =
            StreamSettings::from_metadata(&bad).unwrap_err().into_iter().map(|e| e.field).collect();
        assert_eq!(fields, ["startingPosition", "batchSize"]);
    }
}
