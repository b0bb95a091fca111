//! The certificate source against a real TLS server on loopback, reached
//! under an SNS host name through a resolver made for the test.

use std::net::{Ipv4Addr, SocketAddr};
use std::time::Duration;

use http_body_util::Full;
use rcgen::{BasicConstraints, CertificateParams, IsCa, Issuer, KeyPair};
use rustls::pki_types::PrivateKeyDer;

use super::*;

const HOST: &str = "sns.us-east-1.amazonaws.com";
/// A loopback address of its own, as the certificate URL carries no port (443).
const ADDRESS: Ipv4Addr = Ipv4Addr::new(127, 83, 78, 83);

fn test_certificate_pem() -> String {
    std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/sns-signing/test-cert.pem")).unwrap()
}

/// Every name resolves to [`ADDRESS`].
#[derive(Clone)]
struct ToLoopback;

impl tower::Service<hyper_util::client::legacy::connect::dns::Name> for ToLoopback {
    type Response = std::iter::Once<SocketAddr>;
    type Error = std::io::Error;
    type Future = std::future::Ready<Result<Self::Response, Self::Error>>;

    fn poll_ready(&mut self, _: &mut std::task::Context<'_>) -> std::task::Poll<Result<(), Self::Error>> {
        std::task::Poll::Ready(Ok(()))
    }

    fn call(&mut self, _: hyper_util::client::legacy::connect::dns::Name) -> Self::Future {
        std::future::ready(Ok(std::iter::once(SocketAddr::from((ADDRESS, 443)))))
    }
}

/// The path and query of each request a server got.
type Requests = Arc<Mutex<Vec<String>>>;

fn count(requests: &Requests) -> usize {
    requests.lock().unwrap().len()
}

/// An HTTPS server for [`HOST`] on [`ADDRESS`]:443 answering every GET with
/// `body`; the CA that signed it, and the requests it got.
async fn sns_host(body: String) -> (rustls::RootCertStore, Requests) {
    // P-384: the fetch leaves P-256 out (crate::tls).
    let ca_key = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P384_SHA384).unwrap();
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca = ca_params.self_signed(&ca_key).unwrap();
    let issuer = Issuer::new(ca_params, ca_key);
    let key = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P384_SHA384).unwrap();
    let cert = CertificateParams::new(vec![HOST.to_owned()]).unwrap().signed_by(&key, &issuer).unwrap();
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(
            vec![cert.der().clone()],
            PrivateKeyDer::from_pem_slice(key.serialize_pem().as_bytes()).unwrap(),
        )
        .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener =
        tokio::net::TcpListener::bind((ADDRESS, 443)).await.expect("tests run as root: port 443 on loopback");
    let requests = Requests::default();
    let counted = requests.clone();
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let (acceptor, body, counted) = (acceptor.clone(), body.clone(), counted.clone());
            tokio::spawn(async move {
                let Ok(tls) = acceptor.accept(tcp).await else { return };
                let service = hyper::service::service_fn(move |request: http::Request<hyper::body::Incoming>| {
                    let target = request.uri().path_and_query().map(ToString::to_string).unwrap_or_default();
                    counted.lock().unwrap().push(target);
                    let response = http::Response::new(Full::new(Bytes::from(body.clone())));
                    async move { Ok::<_, std::convert::Infallible>(response) }
                });
                let io = hyper_util::rt::TokioIo::new(tls);
                let _ = hyper::server::conn::http1::Builder::new().serve_connection(io, service).await;
            });
        }
    });
    let mut roots = rustls::RootCertStore::empty();
    roots.add(ca.der().clone()).unwrap();
    (roots, requests)
}

fn soon() -> Instant {
    Instant::now() + Duration::from_secs(10)
}

/// One test for the server on port 443, so that no two bind it at once.
#[tokio::test]
async fn certificates_are_fetched_over_https_once_each_and_bad_answers_refused() {
    let url = format!("https://{HOST}/SimpleNotificationService-0123.pem");
    let (roots, requests) = sns_host(test_certificate_pem()).await;
    let certificates = Certificates::fetched(roots.clone(), HttpConnector::new_with_resolver(ToLoopback));
    let expected = CertificateDer::from_pem_slice(test_certificate_pem().as_bytes()).unwrap().to_vec();
    assert_eq!(*certificates.get(&url, soon()).await.unwrap(), expected);
    assert_eq!(*certificates.get(&url, soon()).await.unwrap(), expected);
    assert_eq!(count(&requests), 1, "kept after the first fetch");

    // A URL that is not SNS's is never fetched.
    let error = certificates.get("https://example.com/x.pem", soon()).await.unwrap_err();
    assert!(error.message.contains("not on an SNS host"), "{error}");
    assert_eq!(count(&requests), 1);

    // The same client confirms a subscription at SNS's ConfirmSubscription,
    // and follows no other URL.
    let confirm = format!("https://{HOST}/?Action=ConfirmSubscription&TopicArn=arn:aws:sns:us-east-1:1:t&Token=abc");
    certificates.confirm(&confirm, soon()).await.unwrap();
    assert_eq!(
        requests.lock().unwrap().last().map(String::as_str),
        Some("/?Action=ConfirmSubscription&TopicArn=arn:aws:sns:us-east-1:1:t&Token=abc")
    );
    let error = certificates.confirm("https://example.com/?Action=ConfirmSubscription", soon()).await.unwrap_err();
    assert!(error.message.contains("not on an SNS host"), "{error}");
    assert_eq!(count(&requests), 2);

    // A server the public roots do not trust is refused.
    let untrusted = Certificates::fetched(crate::tls::web_roots(), HttpConnector::new_with_resolver(ToLoopback));
    let error = untrusted.get(&url, soon()).await.unwrap_err();
    assert!(error.message.contains("could not be fetched"), "{error}");
}

#[tokio::test]
async fn a_pinned_certificate_is_used_for_every_url() {
    let pem = test_certificate_pem();
    let expected = CertificateDer::from_pem_slice(pem.as_bytes()).unwrap().to_vec();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("sns.pem");
    std::fs::write(&file, &pem).unwrap();
    for pinned in [pem.as_str(), file.to_str().unwrap()] {
        let certificates = Certificates::new(Some(pinned)).unwrap();
        assert_eq!(*certificates.get("https://anything.example/x", soon()).await.unwrap(), expected);
    }
    assert!(Certificates::new(Some("/no/such/file.pem")).err().unwrap().contains("cannot read"));
    assert!(Certificates::new(Some("-----BEGIN CERTIFICATE-----\nnope\n")).err().unwrap().contains("not a PEM"));
}
