//! `bindings.aws.dynamodb`'s component metadata (reference §1.3): the table.

use super::AwsConfig;
use crate::component::{FieldError, Metadata};

/// The table a component writes to and reads from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DynamoDbConfig {
    pub aws: AwsConfig,
    /// `table` as configured: a table name, or a table ARN (which DynamoDB
    /// takes as `TableName` too).
    pub table: String,
}

impl DynamoDbConfig {
    /// Checks `table` without calling DynamoDB: a name of 3 to 255 letters,
    /// digits, `_`, `-` and `.` (DynamoDB's rule), or an ARN
    /// `arn:<partition>:dynamodb:<region>:<account>:table/<name>`.
    pub fn from_metadata(metadata: &Metadata) -> Result<Self, Vec<FieldError>> {
        let aws = AwsConfig::from_metadata(metadata);
        let table = metadata.required("table").and_then(|table| {
            let table = table.trim();
            match table_name(table) {
                Some(_) => Ok(table.to_owned()),
                None => Err(FieldError::invalid(
                    "table",
                    format!(
                        "expected a table name (3 to 255 letters, digits, _, - and .) or a table ARN, got {table:?}"
                    ),
                )),
            }
        });
        match (aws, table) {
            (Ok(aws), Ok(table)) => Ok(Self { aws, table }),
            (aws, table) => Err(aws.err().into_iter().flatten().chain(table.err()).collect()),
        }
    }

    /// The table's name, whether `table` is a name or an ARN.
    pub fn table_name(&self) -> &str {
        table_name(&self.table).unwrap_or(&self.table)
    }

    /// Whether `table` is an ARN, which names its region and account.
    pub fn is_arn(&self) -> bool {
        self.table.starts_with("arn:")
    }
}

/// The table name `table` gives, if it is a valid name or table ARN.
fn table_name(table: &str) -> Option<&str> {
    let valid = |name: &str| {
        (3..=255).contains(&name.len())
            && name.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'))
    };
    if !table.starts_with("arn:") {
        return valid(table).then_some(table);
    }
    match table.split(':').collect::<Vec<_>>().as_slice() {
        ["arn", partition, "dynamodb", region, account, resource]
            if !partition.is_empty() && !region.is_empty() && !account.is_empty() =>
        {
            resource.strip_prefix("table/").filter(|name| valid(name))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(table: &str) -> Result<DynamoDbConfig, Vec<FieldError>> {
        DynamoDbConfig::from_metadata(&Metadata::from_pairs([("table", table)]))
    }

    #[test]
    fn table_names_and_arns_are_checked_at_load() {
        let name = config(" Tasks.v2_x-1 ").unwrap();
        assert_eq!((name.table.as_str(), name.table_name(), name.is_arn()), ("Tasks.v2_x-1", "Tasks.v2_x-1", false));
        let arn = config("arn:aws:dynamodb:eu-west-1:123456789012:table/Tasks").unwrap();
        assert_eq!((arn.table_name(), arn.is_arn()), ("Tasks", true));
        for bad in [
            "",
            "ab",
            "has space",
            &"t".repeat(256),
            "arn:aws:dynamodb:eu-west-1:123456789012:Tasks",
            "arn:aws:dynamodb:eu-west-1:123456789012:table/Tasks/stream/2026",
            "arn:aws:s3:::table/Tasks",
        ] {
            let Err(errors) = config(bad) else { panic!("{bad:?} accepted") };
            assert_eq!(errors[0].field, "table", "{bad:?}");
        }
    }
}
