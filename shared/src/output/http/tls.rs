//! TLS for the HTTP binding: the public web roots by default, or only the
//! component's `MTLSRootCA`; a client certificate from `MTLSClientCert` and
//! `MTLSClientKey`. Each is PEM text or the path of a PEM file, as in Dapr.

use std::sync::Arc;

use rustls::ClientConfig;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

use crate::component::{FieldError, Metadata};

/// The client TLS configuration the component asks for.
pub(crate) fn client_config(metadata: &Metadata) -> Result<ClientConfig, Vec<FieldError>> {
    let mut errors = Vec::new();
    // Two crypto providers may be compiled in (the AWS SDK brings its own), so
    // the one used here is named rather than left to the process default.
    let builder = ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .map_err(|e| vec![FieldError::invalid("MTLSRootCA", format!("TLS setup failed: {e}"))])?;

    let mut roots = rustls::RootCertStore::empty();
    match metadata.get("MTLSRootCA") {
        None => roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned()),
        Some(value) => match pem_bytes("MTLSRootCA", value).and_then(|pem| certificates("MTLSRootCA", &pem)) {
            Ok(certs) => {
                for cert in certs {
                    if let Err(e) = roots.add(cert) {
                        errors.push(FieldError::invalid("MTLSRootCA", format!("not a usable CA certificate: {e}")));
                    }
                }
            }
            Err(e) => errors.push(e),
        },
    }
    if let Some(mode) = metadata.get("MTLSRenegotiation").filter(|m| *m != "RenegotiateNever") {
        errors.push(FieldError::invalid(
            "MTLSRenegotiation",
            format!("{mode:?} is not supported: TLS renegotiation is never done (RenegotiateNever is the only value)"),
        ));
    }
    let builder = builder.with_root_certificates(roots);

    let config = match (metadata.get("MTLSClientCert"), metadata.get("MTLSClientKey")) {
        (None, None) => builder.with_no_client_auth(),
        (Some(_), None) => return Err(with(errors, FieldError::missing("MTLSClientKey", "MTLSClientCert is set"))),
        (None, Some(_)) => return Err(with(errors, FieldError::missing("MTLSClientCert", "MTLSClientKey is set"))),
        (Some(cert), Some(key)) => {
            let chain = pem_bytes("MTLSClientCert", cert).and_then(|pem| certificates("MTLSClientCert", &pem));
            let key = pem_bytes("MTLSClientKey", key).and_then(|pem| {
                PrivateKeyDer::from_pem_slice(&pem)
                    .map_err(|e| FieldError::invalid("MTLSClientKey", format!("no private key in the PEM: {e}")))
            });
            match (chain, key) {
                (Ok(chain), Ok(key)) => match builder.with_client_auth_cert(chain, key) {
                    Ok(config) => config,
                    Err(e) => return Err(with(errors, FieldError::invalid("MTLSClientKey", format!("{e}")))),
                },
                (chain, key) => {
                    errors.extend(chain.err());
                    errors.extend(key.err());
                    return Err(errors);
                }
            }
        }
    };
    if errors.is_empty() { Ok(config) } else { Err(errors) }
}

fn with(mut errors: Vec<FieldError>, error: FieldError) -> Vec<FieldError> {
    errors.push(error);
    errors
}

/// The value itself when it is PEM text, else the contents of the file it names.
///
/// The value is repeated in the error only when it may be a path: never for
/// the private key, which may be key material that lost its PEM armour.
fn pem_bytes(field: &str, value: &str) -> Result<Vec<u8>, FieldError> {
    if value.contains("-----BEGIN") {
        return Ok(value.as_bytes().to_vec());
    }
    std::fs::read(value.trim()).map_err(|e| {
        let shown = field != "MTLSClientKey" && value.len() < 256 && !value.contains('\n');
        let which = if shown { format!(" {:?}", value.trim()) } else { String::new() };
        FieldError::invalid(field, format!("neither PEM text nor a readable file{which}: {e}"))
    })
}

fn certificates(field: &str, pem: &[u8]) -> Result<Vec<CertificateDer<'static>>, FieldError> {
    let certs = CertificateDer::pem_slice_iter(pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| FieldError::invalid(field, format!("unreadable PEM: {e}")))?;
    if certs.is_empty() {
        return Err(FieldError::invalid(field, "no certificate in the PEM"));
    }
    Ok(certs)
}
