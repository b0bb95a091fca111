//! SNS signing certificates: the one pinned in the component, or each URL's
//! certificate fetched once over HTTPS (the public web roots) and kept; and
//! the same HTTPS client confirms the subscriptions of HTTP deliveries.
//!
//! A URL is fetched only after `check_cert_url` (or `check_subscribe_url`)
//! accepted it, the answer must be a 200 of at most 64 KiB (holding one PEM
//! certificate), and the fetch is bounded by the invocation's deadline.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use http_body_util::{BodyExt, Limited};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::connect::dns::GaiResolver;
use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;
use tokio::time::Instant;

use crate::input::InputError;
use crate::input::sns::{check_cert_url, check_subscribe_url};

const MAX_PEM: usize = 64 * 1024;
/// SNS has a handful of certificates in use; more URLs than this are not kept.
const MAX_KEPT: usize = 32;

/// Where a function's signing certificates come from: the pinned one, or
/// those fetched by URL; and the client that fetches them.
pub(crate) struct Certificates<R = GaiResolver> {
    pinned: Option<Arc<Vec<u8>>>,
    client: crate::tls::HttpsClient<R>,
    kept: Mutex<HashMap<String, Arc<Vec<u8>>>>,
}

impl Certificates {
    /// `pinned` is the component's `signingCertificate`: PEM text, or the
    /// path of a PEM file. Without it, certificates are fetched.
    pub(crate) fn new(pinned: Option<&str>) -> Result<Self, String> {
        let pinned = pinned.map(pinned_der).transpose()?;
        let mut certificates = Self::fetched(crate::tls::web_roots(), HttpConnector::new());
        certificates.pinned = pinned.map(Arc::new);
        Ok(certificates)
    }
}

impl<R> Certificates<R>
where
    R: tower::Service<hyper_util::client::legacy::connect::dns::Name> + Clone + Send + Sync + 'static,
    R::Response: Iterator<Item = std::net::SocketAddr>,
    R::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    R::Future: Send,
{
    /// Fetching with `roots` trusted, connecting with `http`.
    pub(crate) fn fetched(roots: rustls::RootCertStore, http: HttpConnector<R>) -> Self {
        let client = crate::tls::https_client(roots, http, false);
        Self { pinned: None, client, kept: Mutex::new(HashMap::new()) }
    }

    /// The DER certificate for a record's `SigningCertUrl`.
    pub(crate) async fn get(&self, url: &str, deadline: Instant) -> Result<Arc<Vec<u8>>, InputError> {
        if let Some(der) = &self.pinned {
            return Ok(der.clone());
        }
        let checked = check_cert_url(url)?;
        if let Some(der) = self.kept.lock().unwrap_or_else(|p| p.into_inner()).get(url) {
            return Ok(der.clone());
        }
        let failed =
            |why: String| InputError::new(format!("the SNS signing certificate at {url} could not be fetched: {why}"));
        let pem = self.fetch(checked, deadline).await.map_err(failed)?;
        let der = CertificateDer::from_pem_slice(&pem).map_err(|e| failed(format!("not a PEM certificate: {e}")))?;
        let der = Arc::new(der.to_vec());
        let mut kept = self.kept.lock().unwrap_or_else(|p| p.into_inner());
        if kept.len() < MAX_KEPT {
            kept.insert(url.to_owned(), der.clone());
        }
        Ok(der)
    }

    /// Confirms a subscription: GET its `SubscribeURL`, once
    /// `check_subscribe_url` accepted it.
    pub(crate) async fn confirm(&self, subscribe_url: &str, deadline: Instant) -> Result<(), InputError> {
        let checked = check_subscribe_url(subscribe_url)?;
        let host = checked.host_str().unwrap_or_default().to_owned();
        self.fetch(checked, deadline)
            .await
            .map(drop)
            .map_err(|why| InputError::new(format!("the subscription could not be confirmed at {host}: {why}")))
    }

    /// GET `url`: its body, when the answer is a 200 of at most 64 KiB.
    async fn fetch(&self, url: url::Url, deadline: Instant) -> Result<Bytes, String> {
        let uri: http::Uri = url.as_str().parse().map_err(|e| format!("{e}"))?;
        let fetch = async {
            let response = self.client.get(uri).await.map_err(|e| crate::error_chain::error_chain(&e))?;
            if response.status() != http::StatusCode::OK {
                return Err(format!("the server answered {}", response.status()));
            }
            let body = Limited::new(response.into_body(), MAX_PEM).collect().await.map_err(|e| e.to_string())?;
            Ok(body.to_bytes())
        };
        tokio::time::timeout_at(deadline, fetch).await.map_err(|_| "the deadline came first".to_owned())?
    }
}

/// PEM text, or the path of a PEM file, as one DER certificate.
fn pinned_der(value: &str) -> Result<Vec<u8>, String> {
    let pem = if value.trim_start().starts_with("-----BEGIN") {
        value.as_bytes().to_vec()
    } else {
        std::fs::read(value).map_err(|e| format!("signingCertificate: cannot read {value:?}: {e}"))?
    };
    CertificateDer::from_pem_slice(&pem)
        .map(|der| der.to_vec())
        .map_err(|e| format!("signingCertificate: not a PEM certificate: {e}"))
}

#[cfg(test)]
mod tests;
