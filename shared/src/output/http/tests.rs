//! The HTTP binding against real servers on loopback: a plain one that
//! echoes what it gets, and a TLS one that demands a client certificate.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::{Body, to_bytes};
use axum::extract::Request;
use axum::response::Response;
use serde_json::{Value, json};

use super::*;
use crate::output::binding::InvokeResponse;
use crate::output::layer::{self, LayerSettings};

/// Echoes the request as JSON, or answers `/status/<code>`, `/big/<bytes>`, `/slow`.
async fn echo(request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let path = parts.uri.path().to_owned();
    if let Some(code) = path.strip_prefix("/status/") {
        let code: u16 = code.parse().unwrap();
        return Response::builder()
            .status(code)
            .header("x-reason", "because")
            .body(Body::from(format!("body of {code}")))
            .unwrap();
    }
    if let Some(size) = path.strip_prefix("/big/") {
        return Response::new(Body::from(vec![b'z'; size.parse().unwrap()]));
    }
    if path == "/slow" {
        tokio::time::sleep(Duration::from_secs(5)).await;
    }
    let headers: BTreeMap<String, String> =
        parts.headers.iter().map(|(k, v)| (k.to_string(), v.to_str().unwrap().to_owned())).collect();
    let body = to_bytes(body, usize::MAX).await.unwrap();
    let echoed = json!({
        "method": parts.method.as_str(),
        "uri": parts.uri.to_string(),
        "headers": headers,
        "body": String::from_utf8_lossy(&body),
    });
    Response::builder().header("content-type", "application/json").body(Body::from(echoed.to_string())).unwrap()
}

async fn server() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, Router::new().fallback(echo)).await });
    url
}

fn binding(url: &str, extra: &[(&str, &str)]) -> HttpBinding {
    let mut pairs = vec![("url", url)];
    pairs.extend_from_slice(extra);
    HttpBinding::from_metadata(&Metadata::from_pairs(pairs)).unwrap()
}

fn request(operation: &str, data: &str, metadata: &[(&str, &str)]) -> InvokeRequest {
    let mut request = InvokeRequest::new(operation, data.to_owned());
    for (k, v) in metadata {
        request = request.with_metadata(*k, *v);
    }
    request
}

async fn echoed(binding: &HttpBinding, request: InvokeRequest) -> Value {
    let response = binding.invoke(request).await.unwrap().unwrap();
    serde_json::from_slice(&response.data).unwrap()
}

#[tokio::test]
async fn every_operation_with_dapr_method_and_body_rules() {
    let url = server().await;
    let b = binding(&format!("{url}/api"), &[]);
    for operation in OPERATIONS {
        let response = b.invoke(request(operation, r#"{"a":1}"#, &[])).await.unwrap().unwrap();
        assert_eq!(response.metadata["statusCode"], "200", "{operation}");
        if *operation == "head" {
            assert!(response.data.is_empty());
            continue;
        }
        let got: Value = serde_json::from_slice(&response.data).unwrap();
        let method = if *operation == "create" { "POST".to_owned() } else { operation.to_ascii_uppercase() };
        assert_eq!(got["method"], method);
        assert_eq!(got["uri"], "/api", "without a path, the URL as it is");
        let with_body = matches!(*operation, "create" | "post" | "put" | "patch");
        assert_eq!(got["body"], if with_body { r#"{"a":1}"# } else { "" }, "{operation}");
        assert_eq!(got["headers"].get("content-type").is_some(), with_body, "{operation}");
    }
}

#[tokio::test]
async fn path_query_and_headers() {
    let url = server().await;
    let b = binding(&url, &[("securityToken", "s3cr3t"), ("securityTokenHeader", "X-Api-Key")]);
    let got = echoed(
        &b,
        request(
            "post",
            "x",
            &[
                ("path", "/tasks/7?notify=true"),
                ("X-Custom", "yes"),
                ("lowercase", "not a header"),
                ("traceparent", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"),
            ],
        ),
    )
    .await;
    assert_eq!(got["uri"], "/tasks/7?notify=true");
    let headers = &got["headers"];
    assert_eq!(headers["x-custom"], "yes");
    assert_eq!(headers["x-api-key"], "s3cr3t");
    assert_eq!(headers["accept"], JSON);
    assert_eq!(headers["content-type"], JSON);
    assert_eq!(headers["traceparent"], "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01");
    assert!(headers.get("lowercase").is_none());

    // Metadata overrides the defaults and the security token.
    let got = echoed(
        &b,
        request("post", "x", &[("Content-Type", "text/plain"), ("Accept", "text/html"), ("X-Api-Key", "mine")]),
    )
    .await;
    assert_eq!(got["headers"]["content-type"], "text/plain");
    assert_eq!(got["headers"]["accept"], "text/html");
    assert_eq!(got["headers"]["x-api-key"], "mine");

    let bad = b.invoke(request("get", "", &[("X-Bad", "line\nbreak")])).await.unwrap_err();
    assert_eq!(bad.kind, ErrorKind::BadRequest);
}

#[tokio::test]
async fn escaping_paths_are_refused_before_anything_is_sent() {
    let url = server().await;
    let b = binding(&format!("{url}/base"), &[]);
    for path in ["../admin", "%2e%2e/admin", "http://evil.example.com/", "//evil.example.com", "user@evil.example.com"]
    {
        let error = b.invoke(request("get", "", &[("path", path)])).await.unwrap_err();
        assert_eq!(error.kind, ErrorKind::BadRequest, "{path}");
        assert!(error.message.starts_with(&format!("path {path:?}")), "{error}");
    }
}

#[tokio::test]
async fn non_2xx_keeps_the_response_or_passes_it_through() {
    let url = server().await;
    let b = binding(&url, &[]);
    let error = b.invoke(request("get", "", &[("path", "/status/404")])).await.unwrap_err();
    assert_eq!((error.kind, error.message.as_str()), (ErrorKind::Remote, "received status code 404"));
    let kept: &InvokeResponse = error.response.as_deref().unwrap();
    assert_eq!(kept.data, "body of 404");
    assert_eq!(kept.metadata["statusCode"], "404");
    assert_eq!(kept.metadata["status"], "404 Not Found");
    assert_eq!(kept.metadata["X-Reason"], "because");

    let throttled = b.invoke(request("get", "", &[("path", "/status/429")])).await.unwrap_err();
    assert_eq!(throttled.kind, ErrorKind::Throttled);
    let unavailable = b.invoke(request("get", "", &[("path", "/status/503")])).await.unwrap_err();
    assert_eq!(unavailable.kind, ErrorKind::Transient);

    // Per request, and per component.
    let passed = b.invoke(request("get", "", &[("path", "/status/500"), ("errorIfNot2XX", "false")])).await.unwrap();
    assert_eq!(passed.unwrap().metadata["statusCode"], "500");
    let lenient = binding(&url, &[("errorIfNot2XX", "false")]);
    let passed = lenient.invoke(request("get", "", &[("path", "/status/404")])).await.unwrap().unwrap();
    assert_eq!(passed.data, "body of 404");
}

#[tokio::test]
async fn large_bodies_are_truncated_and_flagged() {
    let url = server().await;
    let b = binding(&url, &[("maxResponseBodySize", "1Ki")]);
    let cut = b.invoke(request("get", "", &[("path", "/big/100000")])).await.unwrap().unwrap();
    assert_eq!(cut.data.len(), 1024);
    assert_eq!(cut.metadata[TRUNCATED_KEY], "true");
    let whole = b.invoke(request("get", "", &[("path", "/big/1024")])).await.unwrap().unwrap();
    assert_eq!(whole.data.len(), 1024);
    assert!(!whole.metadata.contains_key(TRUNCATED_KEY));
    let unlimited = binding(&url, &[("maxResponseBodySize", "0")]);
    let all = unlimited.invoke(request("get", "", &[("path", "/big/300000")])).await.unwrap().unwrap();
    assert_eq!(all.data.len(), 300_000);
}

#[tokio::test]
async fn unreachable_servers_and_timeouts() {
    let b = binding("http://127.0.0.1:9", &[]);
    let error = b.invoke(request("get", "", &[])).await.unwrap_err();
    assert_eq!(error.kind, ErrorKind::Transient);
    assert!(error.message.starts_with("cannot reach http://127.0.0.1:9"), "{error}");

    let url = server().await;
    let metadata = Metadata::from_pairs([("url", url.as_str()), ("responseTimeout", "200ms"), ("maxRetries", "0")]);
    let settings = LayerSettings::from_metadata(&metadata, "responseTimeout").unwrap();
    let stacked =
        layer::stack(Box::new(HttpBinding::from_metadata(&metadata).unwrap()), "slow", "bindings.http", &settings);
    let error = stacked.invoke(request("get", "", &[("path", "/slow")])).await.unwrap_err();
    assert_eq!((error.kind, error.message.as_str()), (ErrorKind::Timeout, "timed out after 200ms"));
}

#[test]
fn bad_component_settings_name_their_field() {
    let errors = |pairs: &[(&str, &str)]| {
        HttpBinding::from_metadata(&Metadata::from_pairs(pairs.iter().copied()))
            .err()
            .unwrap()
            .into_iter()
            .map(|e| e.field)
            .collect::<Vec<_>>()
    };
    assert_eq!(errors(&[("url", "http://x"), ("errorIfNot2XX", "maybe")]), ["errorIfNot2XX"]);
    assert_eq!(errors(&[("url", "http://x"), ("maxResponseBodySize", "lots")]), ["maxResponseBodySize"]);
    assert_eq!(errors(&[("url", "http://x"), ("MTLSClientCert", "/nope")]), ["MTLSClientKey"]);
    assert_eq!(errors(&[("url", "http://x"), ("MTLSRootCA", "/no/such/file")]), ["MTLSRootCA"]);
    assert_eq!(
        errors(&[("url", "http://x"), ("MTLSRenegotiation", "RenegotiateFreelyAsClient")]),
        ["MTLSRenegotiation"]
    );
}

mod mtls {
    use rcgen::{BasicConstraints, CertificateParams, IsCa, Issuer, KeyPair};
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    use rustls::server::WebPkiClientVerifier;

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
        let (ca, cert, key) =
            (file("ca.pem", &pki.ca), file("c.pem", &pki.client_cert), file("k.pem", &pki.client_key));
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
}
