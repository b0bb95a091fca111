//! SigV4 for the JSON-protocol calls of [`super`] (the idempotency store's
//! DynamoDB, the secrets of Secrets Manager), on the `hmac` and `sha2`
//! every input function links already.
//!
//! `aws-sigv4`, the SDK's signer, brings the smithy runtime types along:
//! 0.3 MB that put `bindery-webhook` and `bindery-sns` over their 4 MB
//! budget. These calls are one shape (a POST of JSON to `/`, no query), so
//! signing them is the algorithm of AWS's "Create a signed AWS API request"
//! and nothing else; the tests check every signature against `aws-sigv4`'s.

use std::time::SystemTime;

use hmac::{Hmac, KeyInit, Mac};
use sha2::{Digest, Sha256};

use crate::output::config::StaticKeys;

const ALGORITHM: &str = "AWS4-HMAC-SHA256";

/// What a request is signed for: the service and region of its scope.
#[derive(Debug, Clone)]
pub(super) struct Scope<'a> {
    pub service: &'a str,
    pub region: &'a str,
}

/// The headers that sign a POST of `body` to `host` (path `/`), whose
/// other headers (lower-case names) are `headers`: `x-amz-date`, the
/// session token's `x-amz-security-token`, and `authorization`.
pub(super) fn sign_post(
    host: &str,
    headers: &[(&str, &str)],
    body: &[u8],
    credentials: &StaticKeys,
    scope: &Scope<'_>,
    time: SystemTime,
) -> Vec<(&'static str, String)> {
    let amz_date = amz_date(time);
    let date = &amz_date[..8];
    let mut added = vec![("x-amz-date", amz_date.clone())];
    if let Some(token) = &credentials.session_token {
        added.push(("x-amz-security-token", token.clone()));
    }

    let mut signed: Vec<(&str, &str)> = headers.to_vec();
    signed.push(("host", host));
    signed.extend(added.iter().map(|(name, value)| (*name, value.as_str())));
    signed.sort_by(|a, b| a.0.cmp(b.0));
    let canonical_headers: String = signed.iter().map(|(name, value)| format!("{name}:{}\n", value.trim())).collect();
    let signed_headers = signed.iter().map(|(name, _)| *name).collect::<Vec<_>>().join(";");
    let canonical_request =
        format!("POST\n/\n\n{canonical_headers}\n{signed_headers}\n{}", hex::encode(Sha256::digest(body)));

    let credential_scope = format!("{date}/{}/{}/aws4_request", scope.region, scope.service);
    let string_to_sign =
        format!("{ALGORITHM}\n{amz_date}\n{credential_scope}\n{}", hex::encode(Sha256::digest(&canonical_request)));
    let key = [date, scope.region, scope.service, "aws4_request"]
        .iter()
        .fold(format!("AWS4{}", credentials.secret_key).into_bytes(), |key, part| hmac(&key, part.as_bytes()));
    let signature = hex::encode(hmac(&key, string_to_sign.as_bytes()));
    added.push((
        "authorization",
        format!(
            "{ALGORITHM} Credential={}/{credential_scope}, SignedHeaders={signed_headers}, Signature={signature}",
            credentials.access_key
        ),
    ));
    added
}

/// `YYYYMMDDTHHMMSSZ`, in UTC. Written out rather than with chrono's
/// `format`, whose pattern interpreter costs a function 20 KB.
fn amz_date(time: SystemTime) -> String {
    use chrono::{Datelike, Timelike};
    let t = chrono::DateTime::<chrono::Utc>::from(time);
    format!("{:04}{:02}{:02}T{:02}{:02}{:02}Z", t.year(), t.month(), t.day(), t.hour(), t.minute(), t.second())
}

fn hmac(key: &[u8], data: &[u8]) -> Vec<u8> {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes a key of any length");
    mac.update(data);
    mac.finalize().into_bytes().to_vec()
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, UNIX_EPOCH};

    use proptest::prelude::*;

    use super::*;

    /// One request to sign, and what is signed for.
    struct Case<'a> {
        host: &'a str,
        headers: &'a [(&'a str, &'a str)],
        body: &'a [u8],
        credentials: &'a StaticKeys,
        scope: Scope<'a>,
        time: SystemTime,
    }

    impl Case<'_> {
        /// What `sign_post` adds, sorted by name.
        fn ours(&self) -> Vec<(String, String)> {
            let signed = sign_post(self.host, self.headers, self.body, self.credentials, &self.scope, self.time);
            let mut found: Vec<_> = signed.into_iter().map(|(name, value)| (name.to_owned(), value)).collect();
            found.sort();
            found
        }

        /// What `aws-sigv4` (the SDK's signer) adds to the same request, sorted by name.
        fn sdk(&self) -> Vec<(String, String)> {
            use aws_sigv4::http_request::{SignableBody, SignableRequest, SigningSettings, sign};
            let c = self.credentials;
            let identity = aws_credential_types::Credentials::new(
                &c.access_key,
                &c.secret_key,
                c.session_token.clone(),
                None,
                "test",
            )
            .into();
            let params = aws_sigv4::sign::v4::SigningParams::builder()
                .identity(&identity)
                .region(self.scope.region)
                .name(self.scope.service)
                .time(self.time)
                .settings(SigningSettings::default())
                .build()
                .unwrap()
                .into();
            let uri = format!("http://{}/", self.host);
            let body = SignableBody::Bytes(self.body);
            let signable = SignableRequest::new("POST", &uri, self.headers.iter().copied(), body).unwrap();
            let (instructions, _) = sign(signable, &params).unwrap().into_parts();
            let mut found: Vec<_> =
                instructions.headers().map(|(name, value)| (name.to_ascii_lowercase(), value.to_owned())).collect();
            found.sort();
            found
        }
    }

    const TARGET: &str = "DynamoDB_20120810.PutItem";

    #[test]
    fn a_dynamodb_call_is_signed_as_the_sdk_signs_it() {
        let credentials = StaticKeys {
            access_key: "AKIDEXAMPLE".into(),
            secret_key: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY".into(),
            session_token: None,
        };
        let scope = Scope { service: "dynamodb", region: "us-east-1" };
        let headers = [("content-type", "application/x-amz-json-1.0"), ("x-amz-target", TARGET)];
        let time = UNIX_EPOCH + Duration::from_secs(1_440_938_160); // 2015-08-30T12:36:00Z, AWS's example day
        let body = br#"{"TableName":"seen","Key":{"id":{"S":"tasks#m-1"}}}"#;
        let host = "dynamodb.us-east-1.amazonaws.com";
        let case = Case { host, headers: &headers, body, credentials: &credentials, scope, time };
        let signed = case.ours();
        assert_eq!(signed, case.sdk());
        assert_eq!(signed[1], ("x-amz-date".into(), "20150830T123600Z".into()));
        assert!(signed[0].1.starts_with(
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/dynamodb/aws4_request, \
             SignedHeaders=content-type;host;x-amz-date;x-amz-target, Signature="
        ));
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]
        #[test]
        fn every_signature_is_the_sdk_s(
            body in proptest::collection::vec(any::<u8>(), 0..300),
            seconds in 0u64..4_000_000_000,
            secret in "[A-Za-z0-9/+]{1,40}",
            token in proptest::option::of("[A-Za-z0-9/+=]{1,80}"),
            region in "(us-east-1|eu-west-3|ap-southeast-2)",
            port in proptest::option::of(1024u16..),
        ) {
            let credentials = StaticKeys { access_key: "AKIDEXAMPLE".into(), secret_key: secret, session_token: token };
            let scope = Scope { service: "dynamodb", region: &region };
            let headers = [("content-type", "application/x-amz-json-1.0"), ("x-amz-target", TARGET)];
            let host = match port { Some(port) => format!("127.0.0.1:{port}"), None => "dynamodb.example".into() };
            let time = UNIX_EPOCH + Duration::from_secs(seconds);
            let case = Case { host: &host, headers: &headers, body: &body, credentials: &credentials, scope, time };
            prop_assert_eq!(case.ours(), case.sdk());
        }
    }
}
