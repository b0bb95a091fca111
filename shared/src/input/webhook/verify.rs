//! Proof of origin for webhook requests: a pure module, configuration in,
//! accept or reject out.
//!
//! A `bindings.http` component with `direction: input` says how its requests
//! are verified with `signatureScheme`:
//!
//! - `github`: `X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of the raw body>`.
//! - `stripe`: `Stripe-Signature: t=<unix secs>,v1=<hex>[,v1=<hex>...]`, the
//!   HMAC-SHA256 of `"{t}.{body}"`; any matching `v1` is accepted (secret
//!   rotation), and `t` must be within `toleranceSeconds` (default 300) of
//!   now, in either direction. `0` means the very same second; it does not
//!   disable the check.
//! - `hmac-sha256`: HMAC-SHA256 of the raw body in `signatureHeader`, after an
//!   optional `signaturePrefix`, encoded as `signatureEncoding` (`hex`, the
//!   default, or `base64`).
//! - `token`: a shared token in `tokenHeader` (default `Authorization`, where
//!   it must read `Bearer <token>`; any other header holds the bare token).
//! - `none`: every request is accepted; it must be chosen explicitly.
//!
//! `signatureSecret` (usually a `secretKeyRef`) is the HMAC key, or the token
//! itself, and is used byte for byte, surrounding whitespace included.
//!
//! Every comparison is constant-time over the decoded bytes. A header that
//! appears more than once is refused rather than guessed at. Nothing here logs,
//! and neither the secret nor any computed signature reaches a `Debug` output
//! or a [`Rejection`] message.

use std::fmt;

use base64::Engine as _;
use base64::alphabet;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use hmac::{Hmac, KeyInit, Mac};
use http::{HeaderMap, HeaderName, header};
use sha2::Sha256;
use subtle::{Choice, ConstantTimeEq};

use crate::component::error::FieldError;
use crate::component::metadata::Metadata;
use crate::token::SecretToken;

/// Field names, as documented (matched case-insensitively by [`Metadata`]).
const SCHEME: &str = "signatureScheme";
const SECRET: &str = "signatureSecret";
const SIGNATURE_HEADER: &str = "signatureHeader";
const SIGNATURE_PREFIX: &str = "signaturePrefix";
const SIGNATURE_ENCODING: &str = "signatureEncoding";
const TOKEN_HEADER: &str = "tokenHeader";
const TOLERANCE: &str = "toleranceSeconds";
const MAX_BODY_SIZE: &str = "maxBodySize";

/// `maxBodySize` when the component does not set it: 1 MiB.
pub const DEFAULT_MAX_BODY_SIZE: u64 = 1024 * 1024;
/// `toleranceSeconds` of the `stripe` scheme when the component does not set it.
pub const DEFAULT_STRIPE_TOLERANCE_SECS: u64 = 300;

const GITHUB_HEADER: &str = "X-Hub-Signature-256";
const GITHUB_PREFIX: &str = "sha256=";
const STRIPE_HEADER: &str = "Stripe-Signature";
const BEARER: &str = "Bearer";

/// Standard base64, padding optional.
const BASE64: GeneralPurpose = GeneralPurpose::new(
    &alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

type HmacSha256 = Hmac<Sha256>;

/// Why a request was refused. Messages go back to the caller and into logs:
/// they name headers, never secrets or computed signatures.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Rejection {
    #[error("missing signature header {0}")]
    MissingProof(String),
    #[error("malformed signature header {0}")]
    Malformed(String),
    #[error("signature does not match")]
    BadSignature,
    #[error("signature timestamp outside the tolerance of {0} s")]
    Expired(u64),
    #[error("more than one {0} header")]
    Ambiguous(String),
    #[error("invalid token")]
    BadToken,
}

/// How the presented signature is encoded.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Encoding {
    Hex,
    Base64,
}

/// A header to read, with the spelling used in messages.
#[derive(Clone)]
struct ProofHeader {
    name: HeaderName,
    label: String,
}

impl ProofHeader {
    fn parse(field: &str, text: &str) -> Result<Self, FieldError> {
        let label = text.trim();
        HeaderName::from_bytes(label.as_bytes())
            .map(|name| Self { name, label: label.to_owned() })
            .map_err(|_| FieldError::invalid(field, format!("{label:?} is not a valid HTTP header name")))
    }

    fn known(name: HeaderName, label: &str) -> Self {
        Self { name, label: label.to_owned() }
    }

    /// The one value of this header: absent and repeated are both refused.
    fn single<'h>(&self, headers: &'h HeaderMap) -> Result<&'h http::HeaderValue, Rejection> {
        let mut values = headers.get_all(&self.name).iter();
        let first = values.next().ok_or_else(|| Rejection::MissingProof(self.label.clone()))?;
        if values.next().is_some() {
            return Err(Rejection::Ambiguous(self.label.clone()));
        }
        Ok(first)
    }

    /// The one value, as visible ASCII text with surrounding whitespace removed.
    fn single_str<'h>(&self, headers: &'h HeaderMap) -> Result<&'h str, Rejection> {
        self.single(headers)?.to_str().map(str::trim).map_err(|_| self.malformed())
    }

    fn malformed(&self) -> Rejection {
        Rejection::Malformed(self.label.clone())
    }
}

#[derive(Clone)]
enum Scheme {
    GitHub {
        mac: HmacSha256,
    },
    Stripe {
        mac: HmacSha256,
        tolerance_secs: u64,
    },
    HmacSha256 {
        mac: HmacSha256,
        header: ProofHeader,
        prefix: Option<String>,
        encoding: Encoding,
    },
    /// Compared as digests, so the comparison hides the token's length too.
    Token {
        token: SecretToken,
        header: ProofHeader,
        bearer: bool,
    },
    None,
}

/// A webhook component's verifier: which proof a request must carry, and the
/// largest body accepted.
#[derive(Clone)]
pub struct WebhookAuth {
    scheme: Scheme,
    max_body_size: u64,
}

impl fmt::Debug for WebhookAuth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WebhookAuth").field("scheme", &self.scheme()).finish_non_exhaustive()
    }
}

impl WebhookAuth {
    /// Reads the verification settings of a component, reporting every
    /// problem at once.
    pub fn from_metadata(metadata: &Metadata) -> Result<Self, Vec<FieldError>> {
        let mut errors = Vec::new();

        let max_body_size = match metadata.byte_size(MAX_BODY_SIZE) {
            Ok(Some(0)) => {
                errors.push(FieldError::invalid(MAX_BODY_SIZE, "must be greater than 0"));
                DEFAULT_MAX_BODY_SIZE
            }
            Ok(size) => size.unwrap_or(DEFAULT_MAX_BODY_SIZE),
            Err(e) => {
                errors.push(e);
                DEFAULT_MAX_BODY_SIZE
            }
        };

        let scheme = match metadata.get(SCHEME) {
            None => {
                errors.push(FieldError::missing(
                    SCHEME,
                    "a webhook binding must say how requests are verified: set it to github, stripe, \
                     hmac-sha256 or token, or to none to accept unsigned requests",
                ));
                None
            }
            Some(name) => parse_scheme(metadata, name.trim(), &mut errors),
        };

        match scheme {
            Some(scheme) if errors.is_empty() => Ok(Self { scheme, max_body_size }),
            _ => Err(errors),
        }
    }

    /// Accepts everything: the `none` scheme, with the default body size.
    pub fn none() -> Self {
        Self { scheme: Scheme::None, max_body_size: DEFAULT_MAX_BODY_SIZE }
    }

    /// The scheme's name as written in `signatureScheme`.
    pub fn scheme(&self) -> &'static str {
        match self.scheme {
            Scheme::GitHub { .. } => "github",
            Scheme::Stripe { .. } => "stripe",
            Scheme::HmacSha256 { .. } => "hmac-sha256",
            Scheme::Token { .. } => "token",
            Scheme::None => "none",
        }
    }

    /// The largest request body accepted, in bytes (`maxBodySize`).
    pub fn max_body_size(&self) -> u64 {
        self.max_body_size
    }

    /// Headers carrying a reusable credential, which must not be forwarded to
    /// the app: the token scheme's header. Signature headers are not listed,
    /// since a signature proves only its own body (see [`Self::proof_header`]).
    pub fn credential_headers(&self) -> Vec<HeaderName> {
        match &self.scheme {
            Scheme::Token { header, .. } => vec![header.name.clone()],
            _ => Vec::new(),
        }
    }

    /// The header this scheme reads its proof from, if any.
    pub fn proof_header(&self) -> Option<HeaderName> {
        match &self.scheme {
            Scheme::GitHub { .. } => Some(header_names::GITHUB),
            Scheme::Stripe { .. } => Some(header_names::STRIPE),
            Scheme::HmacSha256 { header, .. } | Scheme::Token { header, .. } => Some(header.name.clone()),
            Scheme::None => None,
        }
    }

    /// Checks the request's proof of origin against the raw body. `now_unix`
    /// is the current time in seconds since the epoch (used by `stripe`).
    pub fn verify(&self, headers: &HeaderMap, body: &[u8], now_unix: i64) -> Result<(), Rejection> {
        match &self.scheme {
            Scheme::GitHub { mac } => {
                let header = ProofHeader::known(header_names::GITHUB, GITHUB_HEADER);
                let value = header.single_str(headers)?;
                let hex_sig = strip_prefix_ignore_case(value, GITHUB_PREFIX).ok_or_else(|| header.malformed())?;
                let presented = hex::decode(hex_sig).map_err(|_| header.malformed())?;
                check(ct_eq(&sign(mac, &[body]), &presented))
            }
            Scheme::Stripe { mac, tolerance_secs } => verify_stripe(mac, *tolerance_secs, headers, body, now_unix),
            Scheme::HmacSha256 { mac, header, prefix, encoding } => {
                let value = header.single_str(headers)?;
                let encoded = match prefix {
                    Some(prefix) => strip_prefix_ignore_case(value, prefix).ok_or_else(|| header.malformed())?,
                    None => value,
                };
                let presented = match encoding {
                    Encoding::Hex => hex::decode(encoded.trim()).ok(),
                    Encoding::Base64 => BASE64.decode(encoded.trim()).ok(),
                }
                .ok_or_else(|| header.malformed())?;
                check(ct_eq(&sign(mac, &[body]), &presented))
            }
            Scheme::Token { token: expected, header, bearer } => {
                let value = header.single(headers)?.as_bytes().trim_ascii();
                let token = if *bearer { bearer_token(value).ok_or_else(|| header.malformed())? } else { value };
                if expected.matches(token) { Ok(()) } else { Err(Rejection::BadToken) }
            }
            Scheme::None => Ok(()),
        }
    }
}

mod header_names {
    use http::HeaderName;

    pub(super) const GITHUB: HeaderName = HeaderName::from_static("x-hub-signature-256");
    pub(super) const STRIPE: HeaderName = HeaderName::from_static("stripe-signature");
}

fn parse_scheme(metadata: &Metadata, name: &str, errors: &mut Vec<FieldError>) -> Option<Scheme> {
    let lower = name.to_ascii_lowercase();
    let needs_secret = matches!(lower.as_str(), "github" | "stripe" | "hmac-sha256" | "token");
    if !needs_secret && lower != "none" {
        errors.push(FieldError::invalid(
            SCHEME,
            format!("unknown scheme {name:?}: expected one of github, stripe, hmac-sha256, token or none"),
        ));
        return None;
    }

    let secret = if needs_secret {
        let secret = metadata.get(SECRET).map(str::as_bytes);
        if secret.is_none() {
            errors.push(FieldError::missing(
                SECRET,
                format!("required by signatureScheme {lower}: set it, usually with a secretKeyRef"),
            ));
        }
        secret
    } else {
        None
    };
    let mac = secret.and_then(|key| match HmacSha256::new_from_slice(key) {
        Ok(mac) => Some(mac),
        Err(_) => {
            errors.push(FieldError::invalid(SECRET, "not usable as an HMAC-SHA256 key"));
            None
        }
    });

    match lower.as_str() {
        "github" => Some(Scheme::GitHub { mac: mac? }),
        "stripe" => {
            let tolerance_secs = metadata.u64(TOLERANCE).unwrap_or_else(|e| {
                errors.push(e);
                None
            });
            Some(Scheme::Stripe { mac: mac?, tolerance_secs: tolerance_secs.unwrap_or(DEFAULT_STRIPE_TOLERANCE_SECS) })
        }
        "hmac-sha256" => {
            let header = match metadata.get(SIGNATURE_HEADER) {
                None => {
                    errors.push(FieldError::missing(
                        SIGNATURE_HEADER,
                        "required by signatureScheme hmac-sha256: the header that carries the signature",
                    ));
                    None
                }
                Some(text) => ProofHeader::parse(SIGNATURE_HEADER, text).map_err(|e| errors.push(e)).ok(),
            };
            let prefix = metadata.get(SIGNATURE_PREFIX).map(|p| p.trim().to_owned());
            let encoding = match metadata.get(SIGNATURE_ENCODING).map(|e| e.trim().to_ascii_lowercase()).as_deref() {
                None | Some("hex") => Some(Encoding::Hex),
                Some("base64") => Some(Encoding::Base64),
                Some(_) => {
                    errors.push(FieldError::invalid(
                        SIGNATURE_ENCODING,
                        format!(
                            "unknown encoding {:?}: expected hex or base64",
                            metadata.get(SIGNATURE_ENCODING).unwrap_or_default()
                        ),
                    ));
                    None
                }
            };
            Some(Scheme::HmacSha256 { mac: mac?, header: header?, prefix, encoding: encoding? })
        }
        "token" => {
            let header = match metadata.get(TOKEN_HEADER) {
                None => Some(ProofHeader::known(header::AUTHORIZATION, "Authorization")),
                Some(text) => ProofHeader::parse(TOKEN_HEADER, text).map_err(|e| errors.push(e)).ok(),
            }?;
            let token = SecretToken::new(secret?);
            let bearer = header.name == header::AUTHORIZATION;
            Some(Scheme::Token { token, header, bearer })
        }
        _ => Some(Scheme::None),
    }
}

fn verify_stripe(
    mac: &HmacSha256,
    tolerance_secs: u64,
    headers: &HeaderMap,
    body: &[u8],
    now_unix: i64,
) -> Result<(), Rejection> {
    let header = ProofHeader::known(header_names::STRIPE, STRIPE_HEADER);
    let value = header.single_str(headers)?;

    let mut timestamp: Option<&str> = None;
    let mut candidates: Vec<Vec<u8>> = Vec::new();
    for item in value.split(',') {
        let (key, val) = item.split_once('=').ok_or_else(|| header.malformed())?;
        match key.trim() {
            "t" if timestamp.is_some() => return Err(header.malformed()),
            "t" => timestamp = Some(val.trim()),
            // Like Stripe's own libraries, an undecodable entry is skipped:
            // another one may still match.
            "v1" => candidates.extend(hex::decode(val.trim()).ok()),
            _ => {}
        }
    }
    let timestamp = timestamp.ok_or_else(|| header.malformed())?;
    if timestamp.is_empty() || !timestamp.bytes().all(|b| b.is_ascii_digit()) {
        return Err(header.malformed());
    }
    let signed_at: i64 = timestamp.parse().map_err(|_| header.malformed())?;
    if candidates.is_empty() {
        return Err(header.malformed());
    }

    // The signature first, so that `Expired` is only ever said of a genuine
    // (stale or replayed) request, and a forgery always reads `BadSignature`.
    let expected = sign(mac, &[timestamp.as_bytes(), b".", body]);
    let matched = candidates.iter().fold(Choice::from(0), |any, sig| any | ct_eq(&expected, sig));
    check(matched)?;
    if now_unix.abs_diff(signed_at) > tolerance_secs {
        return Err(Rejection::Expired(tolerance_secs));
    }
    Ok(())
}

/// HMAC-SHA256 of the concatenated `parts`, under the key `mac` was made with.
fn sign(mac: &HmacSha256, parts: &[&[u8]]) -> [u8; 32] {
    let mut mac = mac.clone();
    for part in parts {
        mac.update(part);
    }
    mac.finalize().into_bytes().into()
}

/// Constant-time equality; inputs of different lengths differ at once (the
/// length of an HMAC-SHA256 is public).
fn ct_eq(expected: &[u8; 32], presented: &[u8]) -> Choice {
    expected.as_slice().ct_eq(presented)
}

fn check(matched: Choice) -> Result<(), Rejection> {
    if bool::from(matched) { Ok(()) } else { Err(Rejection::BadSignature) }
}

fn strip_prefix_ignore_case<'a>(value: &'a str, prefix: &str) -> Option<&'a str> {
    let head = value.get(..prefix.len())?;
    if head.eq_ignore_ascii_case(prefix) { value.get(prefix.len()..) } else { None }
}

/// The token of `Bearer <token>`, the scheme word in any case.
fn bearer_token(value: &[u8]) -> Option<&[u8]> {
    let (word, rest) = value.split_at_checked(BEARER.len())?;
    if !word.eq_ignore_ascii_case(BEARER.as_bytes()) || !rest.first().is_some_and(|b| *b == b' ' || *b == b'\t') {
        return None;
    }
    let token = rest.trim_ascii();
    (!token.is_empty()).then_some(token)
}

#[cfg(test)]
mod tests;
