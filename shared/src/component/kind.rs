//! The component types bindery serves, as types. A Dapr `spec.type` string
//! is read into a [`ComponentKind`] once, at load; everything after matches
//! on the kind. Inside this crate the matches are exhaustive, so a kind
//! added here and not handled everywhere does not compile; other crates
//! match on what a kind is for ([`InputKind`], [`OutputKind`]), which are
//! exhaustive there too (shared/ADDING_A_BINDING.md).

use std::fmt;

use super::direction::Directions;

/// A binding type bindery implements.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum BindingKind {
    /// `bindings.cron`: input only.
    Cron,
    /// `bindings.aws.sqs`: input (a queue's messages) and output (send).
    AwsSqs,
    /// `bindings.http`: output (Dapr's), and input (webhooks, bindery's own).
    Http,
    /// `bindings.aws.s3`: output (Dapr's), and input (event notifications,
    /// bindery's own).
    AwsS3,
    /// `bindings.aws.ses`: output.
    AwsSes,
    /// `bindings.localstorage`: output.
    LocalStorage,
    /// `bindings.local.mailbox`, bindery's own: each email written to a
    /// folder as an `.eml` file, the local stand-in for SES.
    LocalMailbox,
    /// `bindings.aws.sns`: output (publish to a topic), and input
    /// (notifications, bindery's own).
    AwsSns,
    /// `bindings.aws.dynamodb`: output (put, and bindery's get and delete),
    /// and input (the table's stream, bindery's own).
    AwsDynamoDb,
    /// `bindings.aws.kinesis`: output (put a record) and input (a stream's records).
    AwsKinesis,
}

/// The input functions bindery has: what an input binding is delivered by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum InputKind {
    /// Schedules: EventBridge Scheduler on Lambda, a timer locally.
    Cron,
    /// An SQS queue's messages.
    Sqs,
    /// HTTP requests: API Gateway or a Function URL on Lambda.
    Webhook,
    /// S3 event notifications.
    S3Events,
    /// SNS notifications.
    Sns,
    /// A Kinesis data stream's records.
    Kinesis,
    /// A DynamoDB table's stream of changes.
    DynamoDbStreams,
}

/// The output bindings bindery has.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OutputKind {
    Http,
    S3,
    Ses,
    Sqs,
    LocalStorage,
    Mailbox,
    Sns,
    DynamoDb,
    Kinesis,
}

const OUTPUT: Directions = Directions::implied(false, true);
const NONE: Directions = Directions::implied(false, false);

impl BindingKind {
    /// Every kind, in the order error messages list them.
    pub const ALL: [BindingKind; 10] = [
        BindingKind::Cron,
        BindingKind::AwsSqs,
        BindingKind::Http,
        BindingKind::AwsS3,
        BindingKind::AwsSes,
        BindingKind::LocalStorage,
        BindingKind::LocalMailbox,
        BindingKind::AwsSns,
        BindingKind::AwsDynamoDb,
        BindingKind::AwsKinesis,
    ];

    /// Dapr's `spec.type`.
    pub const fn type_name(self) -> &'static str {
        match self {
            BindingKind::Cron => "bindings.cron",
            BindingKind::AwsSqs => "bindings.aws.sqs",
            BindingKind::Http => "bindings.http",
            BindingKind::AwsS3 => "bindings.aws.s3",
            BindingKind::AwsSes => "bindings.aws.ses",
            BindingKind::LocalStorage => "bindings.localstorage",
            BindingKind::LocalMailbox => "bindings.local.mailbox",
            BindingKind::AwsSns => "bindings.aws.sns",
            BindingKind::AwsDynamoDb => "bindings.aws.dynamodb",
            BindingKind::AwsKinesis => "bindings.aws.kinesis",
        }
    }

    /// What delivers its input side, if it has one.
    pub const fn input(self) -> Option<InputKind> {
        match self {
            BindingKind::Cron => Some(InputKind::Cron),
            BindingKind::AwsSqs => Some(InputKind::Sqs),
            BindingKind::Http => Some(InputKind::Webhook),
            BindingKind::AwsS3 => Some(InputKind::S3Events),
            BindingKind::AwsSns => Some(InputKind::Sns),
            BindingKind::AwsKinesis => Some(InputKind::Kinesis),
            BindingKind::AwsDynamoDb => Some(InputKind::DynamoDbStreams),
            BindingKind::AwsSes | BindingKind::LocalStorage | BindingKind::LocalMailbox => None,
        }
    }

    /// Its output side, if it has one.
    pub const fn output(self) -> Option<OutputKind> {
        match self {
            BindingKind::Cron => None,
            BindingKind::AwsSqs => Some(OutputKind::Sqs),
            BindingKind::Http => Some(OutputKind::Http),
            BindingKind::AwsS3 => Some(OutputKind::S3),
            BindingKind::AwsSes => Some(OutputKind::Ses),
            BindingKind::LocalStorage => Some(OutputKind::LocalStorage),
            BindingKind::LocalMailbox => Some(OutputKind::Mailbox),
            BindingKind::AwsSns => Some(OutputKind::Sns),
            BindingKind::AwsDynamoDb => Some(OutputKind::DynamoDb),
            BindingKind::AwsKinesis => Some(OutputKind::Kinesis),
        }
    }

    /// The directions used when the component has no `direction` item.
    /// Dapr's http, s3, sns and dynamodb bindings are output only; bindery
    /// adds their input sides (webhooks, event notifications, the table's
    /// stream), which must be asked for with `direction: input`.
    pub const fn implied(self) -> Directions {
        match self {
            BindingKind::Http | BindingKind::AwsS3 | BindingKind::AwsSns | BindingKind::AwsDynamoDb => OUTPUT,
            _ => self.supports(),
        }
    }

    /// The directions it can serve at all.
    pub const fn supports(self) -> Directions {
        Directions::implied(self.input().is_some(), self.output().is_some())
    }
}

impl fmt::Display for BindingKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.type_name())
    }
}

/// A secret store type bindery implements.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SecretStoreKind {
    Env,
    LocalFile,
    AwsSecretsManager,
    AwsParameterStore,
}

impl SecretStoreKind {
    pub const ALL: [SecretStoreKind; 4] = [
        SecretStoreKind::Env,
        SecretStoreKind::LocalFile,
        SecretStoreKind::AwsSecretsManager,
        SecretStoreKind::AwsParameterStore,
    ];

    pub const fn type_name(self) -> &'static str {
        match self {
            SecretStoreKind::Env => "secretstores.local.env",
            SecretStoreKind::LocalFile => "secretstores.local.file",
            SecretStoreKind::AwsSecretsManager => "secretstores.aws.secretmanager",
            SecretStoreKind::AwsParameterStore => "secretstores.aws.parameterstore",
        }
    }
}

/// What a component is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ComponentKind {
    Binding(BindingKind),
    SecretStore(SecretStoreKind),
}

impl ComponentKind {
    /// The kind a `spec.type` names; `None` for a type bindery does not
    /// serve (another binding, secret store or building block), which a
    /// resources folder shared with daprd may hold.
    pub fn from_type_name(type_name: &str) -> Option<Self> {
        let binding = BindingKind::ALL.into_iter().find(|k| k.type_name() == type_name).map(Self::Binding);
        binding.or_else(|| SecretStoreKind::ALL.into_iter().find(|k| k.type_name() == type_name).map(Self::SecretStore))
    }

    pub const fn type_name(self) -> &'static str {
        match self {
            ComponentKind::Binding(kind) => kind.type_name(),
            ComponentKind::SecretStore(kind) => kind.type_name(),
        }
    }

    /// The binding kind, `None` for a secret store.
    pub const fn binding(self) -> Option<BindingKind> {
        match self {
            ComponentKind::Binding(kind) => Some(kind),
            ComponentKind::SecretStore(_) => None,
        }
    }

    pub const fn supports(self) -> Directions {
        match self {
            ComponentKind::Binding(kind) => kind.supports(),
            ComponentKind::SecretStore(_) => NONE,
        }
    }

    pub const fn implied(self) -> Directions {
        match self {
            ComponentKind::Binding(kind) => kind.implied(),
            ComponentKind::SecretStore(_) => NONE,
        }
    }
}

impl fmt::Display for ComponentKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.type_name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BOTH: Directions = Directions::implied(true, true);
    const INPUT: Directions = Directions::implied(true, false);

    #[test]
    fn every_type_name_reads_back_as_its_kind() {
        for kind in BindingKind::ALL {
            assert_eq!(ComponentKind::from_type_name(kind.type_name()), Some(ComponentKind::Binding(kind)));
        }
        for kind in SecretStoreKind::ALL {
            assert_eq!(ComponentKind::from_type_name(kind.type_name()), Some(ComponentKind::SecretStore(kind)));
        }
        assert_eq!(ComponentKind::from_type_name("bindings.kafka"), None);
    }

    #[test]
    fn directions_follow_the_sides_a_kind_has() {
        assert_eq!(BindingKind::Cron.supports(), INPUT);
        assert_eq!(BindingKind::AwsSqs.implied(), BOTH);
        assert_eq!(BindingKind::Http.supports(), BOTH);
        assert_eq!(BindingKind::Http.implied(), OUTPUT, "webhooks must be asked for");
        assert_eq!(BindingKind::AwsS3.supports(), BOTH);
        assert_eq!(BindingKind::AwsS3.implied(), OUTPUT, "event notifications must be asked for");
        // Dapr's sns and dynamodb bindings are output only, kinesis both ways.
        assert_eq!(BindingKind::AwsSns.implied(), OUTPUT);
        assert_eq!(BindingKind::AwsDynamoDb.implied(), OUTPUT);
        assert_eq!(BindingKind::AwsKinesis.implied(), BOTH);
        assert_eq!(BindingKind::AwsKinesis.output(), Some(OutputKind::Kinesis));
    }
}
