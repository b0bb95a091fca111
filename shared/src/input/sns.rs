//! SNS notifications become events, one per record
//! (reference: docs/reference/aws-bindings-and-event-sources.md §2.3).
//!
//! Dapr's SNS binding is output only; bindery's input is `bindings.aws.sns`
//! with `direction: input`. The body is the message; the metadata is its id,
//! topic, subject, time and message attributes (`attr-<name>`).
//!
//! A record can be verified as AWS describes: the fields SNS signs, in their
//! order, each as `<name>\n<value>\n`, checked with the public key of the
//! certificate at `SigningCertUrl` (an `https://sns.<region>.amazonaws.com/…
//! .pem` URL, nothing else), SHA1withRSA for `SignatureVersion` 1 and
//! SHA256withRSA for 2. Fetching the certificate is I/O and is left to the
//! function; everything here is pure.
//!
//! SNS also reaches a function over HTTP (an HTTPS subscription to an API
//! Gateway route or a Function URL): the request's body is then the message
//! itself ([`SnsNotification::from_http_body`]), a `Notification`, or a
//! `SubscriptionConfirmation` or `UnsubscribeConfirmation` whose
//! `SubscribeURL` confirms the subscription ([`check_subscribe_url`]).

use std::borrow::Cow;
use std::collections::BTreeMap;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use bytes::Bytes;
use serde::Deserialize;
use serde_json::value::RawValue;

use rustls::pki_types::alg_id;
use rustls::pki_types::{AlgorithmIdentifier, CertificateDer, InvalidSignature, SignatureVerificationAlgorithm};

use super::json::without_content;
use super::{BindingEvent, InputError, Text};
use crate::component::{FieldError, Metadata};

/// The input side of a `bindings.aws.sns` component.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SnsSourceConfig {
    /// The topic subscribed to; a record from any other topic is refused.
    pub topic_arn: String,
    /// Check the signature of each record of a direct invocation before it
    /// is delivered (a message over HTTP is always checked).
    pub verify_signature: bool,
    /// A signing certificate given in the component (PEM text or a file),
    /// used instead of fetching the one the record names: for a function
    /// without a route to the internet. SNS changes its certificate now and
    /// then, and a pinned one must then be replaced.
    pub signing_certificate: Option<String>,
}

impl SnsSourceConfig {
    pub fn from_metadata(metadata: &Metadata) -> Result<Self, Vec<FieldError>> {
        let mut errors = Vec::new();
        let topic_arn = match metadata.required("topicArn") {
            Ok(arn) if is_topic_arn(arn.trim()) => arn.trim().to_owned(),
            Ok(arn) => {
                errors.push(FieldError::invalid(
                    "topicArn",
                    format!("{arn:?} is not an SNS topic ARN (arn:aws:sns:<region>:<account>:<name>)"),
                ));
                String::new()
            }
            Err(e) => {
                errors.push(e);
                String::new()
            }
        };
        let verify_signature = metadata.bool("verifySignature", false).unwrap_or_else(|e| {
            errors.push(e);
            false
        });
        // Used with verifySignature, and always for deliveries over HTTP.
        let signing_certificate = metadata.get("signingCertificate").map(str::to_owned).filter(|c| !c.is_empty());
        if errors.is_empty() { Ok(Self { topic_arn, verify_signature, signing_certificate }) } else { Err(errors) }
    }
}

fn is_topic_arn(arn: &str) -> bool {
    let parts: Vec<&str> = arn.split(':').collect();
    parts.len() == 6 && parts[0] == "arn" && parts[2] == "sns" && parts.iter().skip(3).all(|p| !p.is_empty())
}

#[derive(Deserialize)]
struct EventView<'a> {
    #[serde(rename = "Records", borrow)]
    records: Vec<&'a RawValue>,
}

#[derive(Deserialize)]
struct RecordView<'a> {
    #[serde(rename = "Sns", borrow)]
    sns: Option<MessageView<'a>>,
}

/// The message's fields, under SNS's names. Lambda spells the URLs
/// `SigningCertUrl`; HTTP deliveries and SQS envelopes `SigningCertURL`.
#[derive(Deserialize)]
struct MessageView<'a> {
    #[serde(rename = "Type", borrow)]
    type_: Option<Text<'a>>,
    #[serde(rename = "MessageId", borrow)]
    message_id: Option<Text<'a>>,
    #[serde(rename = "TopicArn", borrow)]
    topic_arn: Option<Text<'a>>,
    #[serde(rename = "Subject", borrow)]
    subject: Option<Text<'a>>,
    #[serde(rename = "Message", borrow)]
    message: Option<Text<'a>>,
    #[serde(rename = "Timestamp", borrow)]
    timestamp: Option<Text<'a>>,
    #[serde(rename = "SignatureVersion", borrow)]
    signature_version: Option<Text<'a>>,
    #[serde(rename = "Signature", borrow)]
    signature: Option<Text<'a>>,
    #[serde(rename = "SigningCertUrl", alias = "SigningCertURL", borrow)]
    signing_cert_url: Option<Text<'a>>,
    #[serde(rename = "MessageAttributes", borrow)]
    message_attributes: Option<BTreeMap<Text<'a>, AttributeView<'a>>>,
    /// The confirmations' (HTTP deliveries only).
    #[serde(rename = "Token", borrow)]
    token: Option<Text<'a>>,
    #[serde(rename = "SubscribeURL", borrow)]
    subscribe_url: Option<Text<'a>>,
}

#[derive(Deserialize)]
struct AttributeView<'a> {
    #[serde(rename = "Value", borrow)]
    value: Option<Text<'a>>,
}

/// The records of an SNS event, each still to be read. `Err` when the
/// payload is not an SNS event at all.
pub fn parse_event(payload: &[u8]) -> Result<Vec<&RawValue>, InputError> {
    let view: EventView<'_> = serde_json::from_slice(payload)
        .map_err(|e| InputError::new(format!("not an SNS event (expected {{\"Records\": [...]}}): {e}")))?;
    Ok(view.records)
}

/// One notification, read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SnsNotification<'a> {
    pub message_id: Cow<'a, str>,
    pub topic_arn: Cow<'a, str>,
    pub subject: Option<Cow<'a, str>>,
    pub message: Cow<'a, str>,
    pub timestamp: Cow<'a, str>,
    /// `Notification` for every message Lambda is given; over HTTP also
    /// `SubscriptionConfirmation` and `UnsubscribeConfirmation`.
    pub type_: Cow<'a, str>,
    /// A confirmation's token and the URL that confirms the subscription.
    pub token: Option<Cow<'a, str>>,
    pub subscribe_url: Option<Cow<'a, str>>,
    pub signature: Option<Signature<'a>>,
    /// Name and value of each message attribute, in name order.
    pub attributes: Vec<(Cow<'a, str>, Cow<'a, str>)>,
}

/// What a record says about its own signature.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Signature<'a> {
    pub version: Cow<'a, str>,
    pub signature: Cow<'a, str>,
    pub cert_url: Cow<'a, str>,
}

impl<'a> SnsNotification<'a> {
    /// Reads one record of a Lambda SNS event.
    pub fn from_record(record: &'a RawValue) -> Result<Self, InputError> {
        let malformed = |what: &str| InputError::new(format!("malformed SNS record: {what}"));
        let view: RecordView<'a> = serde_json::from_str(record.get()).map_err(|e| malformed(&e.to_string()))?;
        let sns = view.sns.ok_or_else(|| malformed("no Sns"))?;
        Self::from_view(sns, "malformed SNS record", "Sns.")
    }

    /// Reads the body of an HTTP delivery: the message, as SNS posts it.
    pub fn from_http_body(body: &'a [u8]) -> Result<Self, InputError> {
        const WHAT: &str = "not an SNS message";
        let view: MessageView<'a> =
            serde_json::from_slice(body).map_err(|e| InputError::new(format!("{WHAT}: {}", without_content(&e))))?;
        let message = Self::from_view(view, WHAT, "")?;
        let confirmation = matches!(message.type_.as_ref(), "SubscriptionConfirmation" | "UnsubscribeConfirmation");
        match message.type_.as_ref() {
            "Notification" => Ok(message),
            _ if confirmation && message.token.is_some() && message.subscribe_url.is_some() => Ok(message),
            _ if confirmation => {
                Err(InputError::new(format!("{WHAT}: a {} needs Token and SubscribeURL", message.type_)))
            }
            other => Err(InputError::new(format!(
                "{WHAT}: Type {other:?} is not Notification, SubscriptionConfirmation or UnsubscribeConfirmation"
            ))),
        }
    }

    fn from_view(sns: MessageView<'a>, what: &str, prefix: &str) -> Result<Self, InputError> {
        let required = |field: Option<Text<'a>>, name: &str| {
            field.map(|Text(t)| t).ok_or_else(|| InputError::new(format!("{what}: no {prefix}{name}")))
        };
        let signature = match (sns.signature_version, sns.signature, sns.signing_cert_url) {
            (Some(Text(version)), Some(Text(signature)), Some(Text(cert_url))) => {
                Some(Signature { version, signature, cert_url })
            }
            _ => None,
        };
        let attributes = sns
            .message_attributes
            .unwrap_or_default()
            .into_iter()
            .filter_map(|(Text(name), attribute)| Some((name, attribute.value?.0)))
            .collect();
        Ok(Self {
            message_id: required(sns.message_id, "MessageId")?,
            topic_arn: required(sns.topic_arn, "TopicArn")?,
            subject: sns.subject.map(|Text(s)| s),
            message: required(sns.message, "Message")?,
            timestamp: required(sns.timestamp, "Timestamp")?,
            type_: required(sns.type_, "Type")?,
            signature,
            attributes,
            token: sns.token.map(|Text(t)| t),
            subscribe_url: sns.subscribe_url.map(|Text(u)| u),
        })
    }

    /// The app's event: the message as body.
    pub fn event(&self) -> BindingEvent {
        let mut metadata: Vec<(Cow<'static, str>, String)> = Vec::with_capacity(4 + self.attributes.len());
        metadata.push(("messageId".into(), self.message_id.clone().into_owned()));
        metadata.push(("topicArn".into(), self.topic_arn.clone().into_owned()));
        if let Some(subject) = &self.subject {
            metadata.push(("subject".into(), subject.clone().into_owned()));
        }
        metadata.push(("timestamp".into(), self.timestamp.clone().into_owned()));
        for (name, value) in &self.attributes {
            metadata.push((format!("attr-{name}").into(), value.clone().into_owned()));
        }
        BindingEvent { data: Bytes::copy_from_slice(self.message.as_bytes()), metadata, traceparent: None }
    }

    /// The text SNS signed, each field as its name, a newline, its value
    /// and a newline: for a notification, `Message`, `MessageId`, `Subject`
    /// when there is one, `Timestamp`, `TopicArn` and `Type`; for a
    /// confirmation, `Message`, `MessageId`, `SubscribeURL`, `Timestamp`,
    /// `Token`, `TopicArn` and `Type`.
    pub fn string_to_sign(&self) -> String {
        let mut text = String::with_capacity(self.message.len() + 512);
        let mut add = |name: &str, value: &str| {
            for part in [name, "\n", value, "\n"] {
                text.push_str(part);
            }
        };
        add("Message", &self.message);
        add("MessageId", &self.message_id);
        match (&self.token, &self.subscribe_url) {
            (Some(token), Some(url)) if self.type_ != "Notification" => {
                add("SubscribeURL", url);
                add("Timestamp", &self.timestamp);
                add("Token", token);
            }
            _ => {
                if let Some(subject) = &self.subject {
                    add("Subject", subject);
                }
                add("Timestamp", &self.timestamp);
            }
        }
        add("TopicArn", &self.topic_arn);
        add("Type", &self.type_);
        text
    }

    /// Checks the signature with `certificate_der`, the certificate at the
    /// record's `SigningCertUrl` (which [`check_cert_url`] accepted).
    pub fn verify(&self, certificate_der: &[u8]) -> Result<(), InputError> {
        let refused = |why: String| InputError::new(format!("SNS signature refused: {why}"));
        let signature = self.signature.as_ref().ok_or_else(|| refused("the record carries no signature".into()))?;
        let algorithm: &dyn SignatureVerificationAlgorithm = match signature.version.as_ref() {
            "1" => &RSA_PKCS1_SHA1,
            "2" => webpki::ring::RSA_PKCS1_2048_8192_SHA256,
            other => return Err(refused(format!("SignatureVersion {other:?} is neither 1 nor 2"))),
        };
        let bytes = STANDARD
            .decode(signature.signature.as_bytes())
            .map_err(|e| refused(format!("Signature is not base64: {e}")))?;
        let der = CertificateDer::from(certificate_der);
        let certificate = webpki::EndEntityCert::try_from(&der)
            .map_err(|e| refused(format!("the signing certificate cannot be read: {e}")))?;
        certificate
            .verify_signature(algorithm, self.string_to_sign().as_bytes(), &bytes)
            .map_err(|_| refused(format!("it does not match the certificate at {}", signature.cert_url)))
    }
}

/// SHA1withRSA, SNS's `SignatureVersion` 1. webpki, which reads the
/// certificate, leaves SHA-1 out for TLS; ring still verifies it.
#[derive(Debug)]
struct RsaPkcs1Sha1;

const RSA_PKCS1_SHA1: RsaPkcs1Sha1 = RsaPkcs1Sha1;

impl SignatureVerificationAlgorithm for RsaPkcs1Sha1 {
    fn verify_signature(&self, public_key: &[u8], message: &[u8], signature: &[u8]) -> Result<(), InvalidSignature> {
        let algorithm = &ring::signature::RSA_PKCS1_2048_8192_SHA1_FOR_LEGACY_USE_ONLY;
        ring::signature::UnparsedPublicKey::new(algorithm, public_key)
            .verify(message, signature)
            .map_err(|_| InvalidSignature)
    }

    fn public_key_alg_id(&self) -> AlgorithmIdentifier {
        alg_id::RSA_ENCRYPTION
    }

    /// sha1WithRSAEncryption (1.2.840.113549.1.1.5) with NULL parameters.
    fn signature_alg_id(&self) -> AlgorithmIdentifier {
        AlgorithmIdentifier::from_slice(&[0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x05, 0x05, 0x00])
    }
}

/// AWS's rule for a signing certificate's URL: `https`, a host
/// `sns.<region>.amazonaws.com` (or `.com.cn`), a path ending in `.pem`.
/// Anything else could be a certificate of the sender's own.
pub fn check_cert_url(url: &str) -> Result<url::Url, InputError> {
    let refused = |why: &str| InputError::new(format!("SNS signature refused: SigningCertUrl {url:?} {why}"));
    let parsed = sns_host_url(url).map_err(refused)?;
    if !parsed.path().ends_with(".pem") {
        return Err(refused("does not name a .pem file"));
    }
    Ok(parsed)
}

/// A confirmation's `SubscribeURL` is fetched only when it is SNS's own
/// `ConfirmSubscription` on an SNS host: a signed message could otherwise
/// make the function call any URL.
pub fn check_subscribe_url(url: &str) -> Result<url::Url, InputError> {
    let refused = |why: &str| InputError::new(format!("SubscribeURL {url:?} {why}"));
    let parsed = sns_host_url(url).map_err(refused)?;
    let action = parsed.query_pairs().find(|(name, _)| name == "Action").map(|(_, value)| value.into_owned());
    if parsed.path() != "/" || action.as_deref() != Some("ConfirmSubscription") {
        return Err(refused("is not SNS's ConfirmSubscription"));
    }
    Ok(parsed)
}

/// An `https` URL on `sns.<region>.amazonaws.com` (or `.com.cn`), with no
/// port or user of its own.
fn sns_host_url(url: &str) -> Result<url::Url, &'static str> {
    let parsed = url::Url::parse(url).map_err(|_| "is not a URL")?;
    if parsed.scheme() != "https" {
        return Err("is not https");
    }
    let host = parsed.host_str().unwrap_or_default();
    let region = host
        .strip_prefix("sns.")
        .and_then(|rest| rest.strip_suffix(".amazonaws.com").or_else(|| rest.strip_suffix(".amazonaws.com.cn")));
    let region_ok = region.is_some_and(|r| r.len() >= 3 && r.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-'));
    if !region_ok || parsed.port().is_some() || !parsed.username().is_empty() {
        return Err("is not on an SNS host (sns.<region>.amazonaws.com)");
    }
    Ok(parsed)
}

#[cfg(test)]
mod tests;
