//! The TLS an input function speaks to AWS (SNS's signing certificates,
//! the idempotency table): ring's, without NIST P-256. AWS's endpoints
//! present RSA certificates that chain to Amazon's RSA roots, and agree on
//! X25519 (or P-384) for the key exchange; ring's P-256 brings 150 KB of
//! tables, which would put bindery-sns over its 4 MB (BENCHMARKS.md).
//! No client key is ever loaded, so none can be.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::{Request, Response};
use http_body_util::{BodyExt, Full, Limited};
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::connect::dns::GaiResolver;
use hyper_util::rt::TokioExecutor;
use ring::rand::SecureRandom as _;
use rustls::crypto::ring::{cipher_suite, kx_group};
use rustls::crypto::{CryptoProvider, GetRandomFailed, KeyProvider, SecureRandom, WebPkiSupportedAlgorithms};
use rustls::pki_types::PrivateKeyDer;
use rustls::sign::SigningKey;
use rustls::{RootCertStore, SignatureScheme};
use webpki::ring as algs;

/// Server signatures accepted: RSA (PKCS#1 and PSS) and ECDSA P-384.
static SIGNATURES: WebPkiSupportedAlgorithms = WebPkiSupportedAlgorithms {
    all: &[
        algs::RSA_PSS_2048_8192_SHA256_LEGACY_KEY,
        algs::RSA_PSS_2048_8192_SHA384_LEGACY_KEY,
        algs::RSA_PSS_2048_8192_SHA512_LEGACY_KEY,
        algs::RSA_PKCS1_2048_8192_SHA256,
        algs::RSA_PKCS1_2048_8192_SHA384,
        algs::RSA_PKCS1_2048_8192_SHA512,
        algs::RSA_PKCS1_2048_8192_SHA256_ABSENT_PARAMS,
        algs::RSA_PKCS1_2048_8192_SHA384_ABSENT_PARAMS,
        algs::RSA_PKCS1_2048_8192_SHA512_ABSENT_PARAMS,
        algs::ECDSA_P384_SHA384,
    ],
    mapping: &[
        (SignatureScheme::ECDSA_NISTP384_SHA384, &[algs::ECDSA_P384_SHA384]),
        (SignatureScheme::RSA_PSS_SHA512, &[algs::RSA_PSS_2048_8192_SHA512_LEGACY_KEY]),
        (SignatureScheme::RSA_PSS_SHA384, &[algs::RSA_PSS_2048_8192_SHA384_LEGACY_KEY]),
        (SignatureScheme::RSA_PSS_SHA256, &[algs::RSA_PSS_2048_8192_SHA256_LEGACY_KEY]),
        (SignatureScheme::RSA_PKCS1_SHA512, &[algs::RSA_PKCS1_2048_8192_SHA512]),
        (SignatureScheme::RSA_PKCS1_SHA384, &[algs::RSA_PKCS1_2048_8192_SHA384]),
        (SignatureScheme::RSA_PKCS1_SHA256, &[algs::RSA_PKCS1_2048_8192_SHA256]),
    ],
};

/// The provider of a connection to AWS.
pub(crate) fn provider() -> Arc<CryptoProvider> {
    Arc::new(CryptoProvider {
        cipher_suites: vec![
            cipher_suite::TLS13_AES_128_GCM_SHA256,
            cipher_suite::TLS13_AES_256_GCM_SHA384,
            cipher_suite::TLS13_CHACHA20_POLY1305_SHA256,
            cipher_suite::TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
            cipher_suite::TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
            cipher_suite::TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
        ],
        kx_groups: vec![kx_group::X25519, kx_group::SECP384R1],
        signature_verification_algorithms: SIGNATURES,
        secure_random: &SystemRandom,
        key_provider: &NoKeys,
    })
}

#[derive(Debug)]
struct SystemRandom;

impl SecureRandom for SystemRandom {
    fn fill(&self, buf: &mut [u8]) -> Result<(), GetRandomFailed> {
        ring::rand::SystemRandom::new().fill(buf).map_err(|_| GetRandomFailed)
    }
}

#[derive(Debug)]
struct NoKeys;

impl KeyProvider for NoKeys {
    fn load_private_key(&self, _: PrivateKeyDer<'static>) -> Result<Arc<dyn SigningKey>, rustls::Error> {
        Err(rustls::Error::General("a connection to AWS presents no client certificate".into()))
    }
}

/// The HTTPS client of an input function's calls to AWS: SNS's signing
/// certificates and subscription confirmations, and the idempotency table.
/// One type for all of them, so its code is in the binary once (about
/// 0.1 MB a second instance would add).
pub(crate) type HttpsClient<R = GaiResolver> = Client<HttpsConnector<HttpConnector<R>>, Full<Bytes>>;

/// The public web roots.
pub(crate) fn web_roots() -> RootCertStore {
    let mut roots = RootCertStore::empty();
    roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    roots
}

/// An HTTPS client on [`provider`] trusting `roots`, connecting with
/// `http`; `allow_http` lets it call plain `http://` URLs too (an
/// emulator's endpoint).
pub(crate) fn https_client<R>(roots: RootCertStore, http: HttpConnector<R>, allow_http: bool) -> HttpsClient<R>
where
    R: tower::Service<hyper_util::client::legacy::connect::dns::Name> + Clone + Send + Sync + 'static,
    R::Response: Iterator<Item = std::net::SocketAddr>,
    R::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    R::Future: Send,
{
    Client::builder(TokioExecutor::new()).build(https_connector(provider(), roots, http, allow_http))
}

/// The connector of [`https_client`] on `provider`, for a client of another
/// crate's making (the OTLP exporter's).
pub(crate) fn https_connector<R>(
    provider: Arc<CryptoProvider>,
    roots: RootCertStore,
    mut http: HttpConnector<R>,
    allow_http: bool,
) -> HttpsConnector<HttpConnector<R>> {
    let tls = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("ring supports the default TLS versions")
        .with_root_certificates(roots)
        .with_no_client_auth();
    http.enforce_http(false);
    http.set_nodelay(true);
    let builder = hyper_rustls::HttpsConnectorBuilder::new().with_tls_config(tls);
    let builder = if allow_http { builder.https_or_http() } else { builder.https_only() };
    builder.enable_http1().wrap_connector(http)
}

/// Why [`exchange`] got no answer.
#[derive(Debug)]
pub(crate) enum ExchangeError {
    /// None came within the time given.
    TimedOut,
    /// The request failed, or the answer's body (say, over its limit).
    Failed(String),
}

/// `request` sent with `client` and its answer read whole, its body at
/// most `max_body` bytes, all within `timeout`.
pub(crate) async fn exchange(
    client: &HttpsClient,
    request: Request<Full<Bytes>>,
    max_body: usize,
    timeout: Duration,
) -> Result<Response<Bytes>, ExchangeError> {
    let exchange = async {
        let response = client.request(request).await.map_err(|e| crate::error_chain::error_chain(&e))?;
        let (parts, body) = response.into_parts();
        let body = Limited::new(body, max_body).collect().await.map_err(|e| e.to_string())?;
        Ok(Response::from_parts(parts, body.to_bytes()))
    };
    tokio::time::timeout(timeout, exchange).await.map_err(|_| ExchangeError::TimedOut)?.map_err(ExchangeError::Failed)
}
