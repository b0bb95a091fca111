//! mTLS against a real TLS server on loopback that demands a client
//! certificate signed by a CA made for the test.

use std::sync::Arc;

use bytes::Bytes;
use http_body_util::Full;
use rcgen::{BasicConstraints, CertificateParams, IsCa, Issuer, KeyPair};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::WebPkiClientVerifier;

use super::tests::{binding, request};
use super::*;

struct Pki {
    ca: String,
    server_cert: String,
    server_key: String,
    client_cert: String,
    client_key: String,
}

fn pki() -> Pki {
    let ca_key = KeyPair::generate().unwrap();
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca = ca_params.self_signed(&ca_key).unwrap();
    let issuer = Issuer::new(ca_params, ca_key);
    let leaf = |name: &str| {
        let key = KeyPair::generate().unwrap();
        let cert = CertificateParams::new(vec![name.to_owned()]).unwrap().signed_by(&key, &issuer).unwrap();
        (cert.pem(), key.serialize_pem())
    };
    let (server_cert, server_key) = leaf("localhost");
    let (client_cert, client_key) = leaf("bindery-client");
    Pki { ca: ca.pem(), server_cert, server_key, client_cert, client_key }
}

/// A TLS server on loopback that requires a client certificate signed by the CA.
async fn tls_server(pki: &Pki) -> String {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut roots = rustls::RootCertStore::empty();
    roots.add(CertificateDer::from_pem_slice(pki.ca.as_bytes()).unwrap()).unwrap();
    let verifier = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider.clone()).build().unwrap();
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_client_cert_verifier(verifier)
        .with_single_cert(
            vec![CertificateDer::from_pem_slice(pki.server_cert.as_bytes()).unwrap()],
            PrivateKeyDer::from_pem_slice(pki.server_key.as_bytes()).unwrap(),
        )
        .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        loop {
            let (tcp, _) = listener.accept().await.unwrap();
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                let Ok(tls) = acceptor.accept(tcp).await else { return };
                let service = hyper::service::service_fn(|_request| async {
                    Ok::<_, std::convert::Infallible>(http::Response::new(Full::new(Bytes::from("secure"))))
                });
                let io = hyper_util::rt::TokioIo::new(tls);
                let _ = hyper::server::conn::http1::Builder::new().serve_connection(io, service).await;
            });
        }
    });
    format!("https://localhost:{port}")
}

#[tokio::test]
async fn client_certificates_as_pem_text_or_files() {
    let pki = pki();
    let url = tls_server(&pki).await;

    let pem = binding(
        &url,
        &[("MTLSRootCA", &pki.ca), ("MTLSClientCert", &pki.client_cert), ("MTLSClientKey", &pki.client_key)],
    );
    assert_eq!(pem.invoke(request("get", "", &[])).await.unwrap().unwrap().data, "secure");

    let dir = tempfile::tempdir().unwrap();
    let file = |name: &str, text: &str| {
        let path = dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        path.display().to_string()
    };
    let (ca, cert, key) = (file("ca.pem", &pki.ca), file("c.pem", &pki.client_cert), file("k.pem", &pki.client_key));
    let files = binding(&url, &[("MTLSRootCA", &ca), ("MTLSClientCert", &cert), ("MTLSClientKey", &key)]);
    assert_eq!(files.invoke(request("get", "", &[])).await.unwrap().unwrap().data, "secure");
}

#[tokio::test]
async fn without_a_client_certificate_or_the_ca_the_call_fails() {
    let pki = pki();
    let url = tls_server(&pki).await;
    let no_cert = binding(&url, &[("MTLSRootCA", &pki.ca)]);
    assert_eq!(no_cert.invoke(request("get", "", &[])).await.unwrap_err().kind, ErrorKind::Transient);
    let unknown_ca = binding(&url, &[("MTLSClientCert", &pki.client_cert), ("MTLSClientKey", &pki.client_key)]);
    let error = unknown_ca.invoke(request("get", "", &[])).await.unwrap_err();
    assert!(error.message.contains("cannot reach https://localhost"), "{error}");
}
