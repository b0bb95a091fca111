use std::collections::BTreeMap;

use super::*;

fn fixtures_dir() -> String {
    format!("{}/fixtures/events", env!("CARGO_MANIFEST_DIR"))
}

fn fixture(name: &str) -> Bytes {
    Bytes::from(std::fs::read(format!("{}/{name}", fixtures_dir())).unwrap())
}

/// Every API Gateway and Function URL fixture: each is one.
fn request_fixtures() -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(fixtures_dir())
        .unwrap()
        .map(|entry| entry.unwrap().file_name().into_string().unwrap())
        .filter(|name| name.starts_with("apigw-") || name.starts_with("function-url"))
        .collect();
    names.sort();
    names
}

/// The query as a sorted list of name-value pairs: lambda_http writes a REST
/// API query in a hash map's order.
fn pairs(query: Option<&str>) -> Vec<(String, String)> {
    let mut pairs: Vec<_> = url::form_urlencoded::parse(query.unwrap_or_default().as_bytes()).into_owned().collect();
    pairs.sort();
    pairs
}

fn all_headers(headers: &HeaderMap) -> BTreeMap<String, Vec<Vec<u8>>> {
    headers
        .keys()
        .map(|k| (k.to_string(), headers.get_all(k).iter().map(|v| v.as_bytes().to_vec()).collect()))
        .collect()
}

/// The request lambda_http makes of an event: method, path, query, every
/// header, body.
type Reading = (Method, String, Vec<(String, String)>, BTreeMap<String, Vec<Vec<u8>>>, Vec<u8>);

fn lambda_http_reading(event: &[u8]) -> Reading {
    let (parts, body) = lambda_http::request::from_str(std::str::from_utf8(event).unwrap()).unwrap().into_parts();
    let body = match body {
        lambda_http::Body::Empty => Vec::new(),
        lambda_http::Body::Text(text) => text.into_bytes(),
        lambda_http::Body::Binary(bytes) => bytes,
        other => panic!("{other:?}"),
    };
    let query = pairs(parts.uri.query());
    (parts.method, parts.uri.path().to_owned(), query, all_headers(&parts.headers), body)
}

fn our_reading(event: &Bytes) -> Reading {
    let request = read_request(event).unwrap();
    let head = request.head;
    (head.method, head.path, pairs(head.query.as_deref()), all_headers(&head.headers), request.body.to_vec())
}

/// The one intended difference: a REST API event's repeated header keeps
/// every value (lambda_http keeps the last, from `headers`).
fn with_repeated_headers_kept(event: &[u8], mut reading: Reading) -> Reading {
    let value: serde_json::Value = serde_json::from_slice(event).unwrap();
    if let Some(multi) = value["multiValueHeaders"].as_object() {
        for (name, values) in multi {
            let values: Vec<Vec<u8>> = values.as_array().unwrap().iter().map(|v| v.as_str().unwrap().into()).collect();
            if values.len() > 1 {
                reading.3.insert(name.to_ascii_lowercase(), values);
            }
        }
    }
    reading
}

#[test]
fn every_fixture_reads_as_lambda_http_reads_it() {
    let names = request_fixtures();
    assert!(names.len() >= 5, "the fixtures: {names:?}");
    for name in names {
        let event = fixture(&name);
        let expected = with_repeated_headers_kept(&event, lambda_http_reading(&event));
        assert_eq!(our_reading(&event), expected, "{name}");
    }
}

#[test]
fn the_gateway_decides_the_answer_shape() {
    let gateway = |name: &str| read_request(&fixture(name)).unwrap().gateway;
    assert_eq!(gateway("apigw-v1-rest-api.json"), Gateway::RestApi);
    assert_eq!(gateway("apigw-v2-http-api.json"), Gateway::HttpApi);
    assert_eq!(gateway("function-url.json"), Gateway::HttpApi);
}

#[test]
fn the_caller_and_request_ids_come_from_the_request_context() {
    let head = |name: &str| read_request(&fixture(name)).unwrap().head;
    let rest = head("apigw-v1-rest-api-repeated.json");
    assert_eq!(rest.source_ip.as_deref(), Some("203.0.113.7"));
    assert_eq!(rest.request_id.as_deref(), Some("c6af9ac6-7b61-11e6-9a41-93e8deadbeef"));
    let http = head("apigw-v2-http-api.json");
    assert_eq!(http.source_ip.as_deref(), Some("192.30.252.44"));
    assert_eq!(http.request_id.as_deref(), Some("JKJaXmPLvHcESHA="));
}

#[test]
fn a_rest_api_query_keeps_the_event_order_and_every_value() {
    let head = read_request(&fixture("apigw-v1-rest-api-repeated.json")).unwrap().head;
    assert_eq!(head.query.as_deref(), Some("tag=a&tag=b&page=2&q=x+y%26z"));
    assert_eq!(head.path, "/v1/hooks/github");
}

/// A body without escapes is a slice of the event's own buffer; one with
/// escapes is unescaped once; a base64 one is decoded.
#[test]
fn the_body_is_not_copied_unless_it_must_be() {
    let event = fixture("apigw-v1-rest-api.json");
    let plain = read_request(&event).unwrap().body;
    assert_eq!(&plain[..], b"Hello, World!");
    assert!(event.as_ptr_range().contains(&plain.as_ptr()), "a slice of the event");
    let escaped = read_request(&fixture("apigw-v2-json-body.json")).unwrap().body;
    assert_eq!(&escaped[..], r#"{"id":"evt_1","data":{"note":"café \"quoted\" \\ back\nslash"}}"#.as_bytes());
    let decoded = read_request(&fixture("apigw-v1-rest-api-repeated.json")).unwrap().body;
    assert_eq!(&decoded[..], br#"{"action":"opened"}"#);
}

#[test]
fn malformed_events_are_input_errors() {
    let error = |text: &str| read_request(&Bytes::from(text.to_owned())).unwrap_err().message;
    assert!(error("[]").starts_with("not an API Gateway or Function URL request: "));
    assert!(error(r#"{"Records": []}"#).contains("neither httpMethod nor requestContext.http.method"));
    assert!(error(r#"{"httpMethod": "GE T", "path": "/"}"#).contains("is not an HTTP method"));
    assert!(
        error(r#"{"httpMethod": "POST", "path": "/", "body": "%%", "isBase64Encoded": true}"#)
            .contains("marked base64-encoded but is not valid base64")
    );
    assert!(error(r#"{"httpMethod": "POST", "headers": {"bad name": "x"}}"#).contains("is not a header name"));
    assert!(error(r#"{"httpMethod": "POST", "headers": {"x": "a\nb"}}"#).contains("HTTP cannot carry"));
}

/// Found by the `apigw_request` fuzz target in lambda_http, which builds a
/// URL from the Host, the X-Forwarded-Proto, the path and the query and
/// `expect`s it to parse: a Host that is no URL host (`us%east-1`, or
/// `u{-east-1`, a URL host but no URI one) made it abort the function, and
/// an X-Forwarded-Proto holding a URL could set the path the app read. None
/// of them is read here; the path and query are the event's own.
#[test]
fn the_host_and_scheme_headers_cannot_crash_it_or_move_the_path() {
    let read = |event: serde_json::Value| read_request(&Bytes::from(event.to_string())).unwrap().head;
    for host in ["us%east-1.amazonaws.com", "abcdefg123456789.lambda-url.u{-east-1.on.aws", "[::1", ""] {
        let rest = read(serde_json::json!({"httpMethod": "POST", "path": "github",
            "headers": {"Host": host, "X-Forwarded-Proto": "https://evil.example/admin?"},
            "requestContext": {"stage": "Prod", "domainName": host}}));
        assert_eq!((rest.path.as_str(), rest.query.as_deref()), ("/Prod/github", None), "{host}");
        let url = read(serde_json::json!({"version": "2.0", "rawPath": "/hook", "rawQueryString": "a=|{ }|",
            "headers": {"host": host}, "requestContext": {"domainName": host, "http": {"method": "POST"}}}));
        assert_eq!((url.path.as_str(), url.query.as_deref()), ("/hook", Some("a=|{ }|")), "{host}");
    }
}

#[test]
fn answers_take_the_gateways_shapes() {
    let response = |body: &'static [u8]| {
        Response::builder()
            .status(201)
            .header("content-type", "text/plain")
            .header("set-cookie", "a=1")
            .header("set-cookie", "b=2")
            .body(Bytes::from_static(body))
            .unwrap()
    };
    let json = |answer: ApiGatewayResponse| serde_json::to_value(answer).unwrap();

    let rest = json(Gateway::RestApi.response(response(b"made")));
    assert_eq!(rest["statusCode"], 201);
    assert_eq!(rest["body"], "made");
    assert_eq!(rest["isBase64Encoded"], false);
    assert_eq!(rest["multiValueHeaders"]["set-cookie"], serde_json::json!(["a=1", "b=2"]));

    let http = json(Gateway::HttpApi.response(response(&[0xff, 0x00])));
    assert_eq!(http["statusCode"], 201);
    assert_eq!(http["body"], "/wA=");
    assert_eq!(http["isBase64Encoded"], true);
    assert_eq!(http["cookies"], serde_json::json!(["a=1", "b=2"]));
    assert_eq!(http["headers"], serde_json::json!({"content-type": "text/plain"}));

    let empty = json(Gateway::HttpApi.response(Response::new(Bytes::new())));
    assert_eq!(empty["statusCode"], 200);
    assert!(empty.get("body").is_none_or(|b| b.is_null()), "{empty}");
}

mod generated {
    //! The equivalence over generated events of both payload formats: any
    //! method, path (dots, spaces, percent signs, non-ASCII), query, headers
    //! (repeated ones included), cookies, stage, and body (quotes,
    //! backslashes, control characters, non-ASCII, or base64 bytes).

    use proptest::prelude::*;
    use serde_json::{Value, json};

    use super::*;

    fn path() -> impl Strategy<Value = String> {
        let segment = prop_oneof![
            "[a-zA-Z0-9_~-]{1,8}",
            Just(".".to_owned()),
            Just("..".to_owned()),
            Just("a b".to_owned()),
            Just("%41%2F".to_owned()),
            Just("café".to_owned()),
            Just("".to_owned()),
        ];
        proptest::collection::vec(segment, 0..5).prop_map(|segments| format!("/{}", segments.join("/")))
    }

    fn text() -> impl Strategy<Value = String> {
        "[ -~]{0,12}|[\"\\\\\t\n\u{7f}é漢😀a]{0,12}"
    }

    fn headers() -> impl Strategy<Value = Vec<(String, Vec<String>)>> {
        let name = "x-[a-z]{1,6}|content-type|user-agent|x-hub-signature-256";
        let value = "[!-~][ -~]{0,10}[!-~]";
        proptest::collection::vec((name, proptest::collection::vec(value, 1..3)), 0..6)
    }

    #[derive(Debug, Clone)]
    enum BodySpec {
        None,
        Text(String),
        Base64(Vec<u8>),
    }

    fn body() -> impl Strategy<Value = BodySpec> {
        prop_oneof![
            Just(BodySpec::None),
            text().prop_map(BodySpec::Text),
            proptest::collection::vec(any::<u8>(), 0..32).prop_map(BodySpec::Base64),
        ]
    }

    #[allow(clippy::too_many_arguments)]
    fn event(
        rest: bool,
        single_query: bool,
        method: &str,
        path: &str,
        query: &[(String, String)],
        headers: &[(String, Vec<String>)],
        stage: Option<&str>,
        body: &BodySpec,
    ) -> Value {
        let (body, base64) = match body {
            BodySpec::None => (Value::Null, false),
            BodySpec::Text(text) => (json!(text), false),
            BodySpec::Base64(bytes) => (json!(STANDARD.encode(bytes)), true),
        };
        let mut single = serde_json::Map::new();
        let mut multi = serde_json::Map::new();
        for (name, values) in headers {
            single.insert(name.clone(), json!(values.last()));
            multi
                .entry(name.clone())
                .or_insert_with(|| json!([]))
                .as_array_mut()
                .unwrap()
                .extend(values.iter().map(|v| json!(v)));
        }
        let raw_query = url::form_urlencoded::Serializer::new(String::new()).extend_pairs(query).finish();
        if rest {
            let mut multi_query = serde_json::Map::new();
            for (name, value) in query {
                multi_query.entry(name.clone()).or_insert_with(|| json!([])).as_array_mut().unwrap().push(json!(value));
            }
            // API Gateway sends both; lambda_http reads the single values
            // only when there are no multi-value ones.
            let last: serde_json::Map<String, Value> = query.iter().map(|(k, v)| (k.clone(), json!(v))).collect();
            let (single_query, multi_query) =
                if single_query { (json!(last), Value::Null) } else { (json!(last), json!(multi_query)) };
            json!({
                "httpMethod": method, "path": path, "headers": single, "multiValueHeaders": multi,
                "queryStringParameters": single_query, "multiValueQueryStringParameters": multi_query,
                "requestContext": {"httpMethod": method, "stage": stage, "requestId": "r",
                                   "identity": {"sourceIp": "203.0.113.1"}},
                "body": body, "isBase64Encoded": base64
            })
        } else {
            let joined: serde_json::Map<String, Value> =
                headers.iter().map(|(name, values)| (name.clone(), json!(values.join(",")))).collect();
            json!({
                "version": "2.0", "rawPath": path, "rawQueryString": raw_query, "headers": joined,
                "cookies": ["a=1", "b=2"],
                "requestContext": {"stage": stage, "requestId": "r",
                                   "http": {"method": method, "path": path, "sourceIp": "203.0.113.1"}},
                "body": body, "isBase64Encoded": base64
            })
        }
    }

    proptest! {
        #[test]
        fn any_event_reads_as_lambda_http_reads_it(
            rest in any::<bool>(),
            single_query in any::<bool>(),
            method in prop_oneof![Just("POST"), Just("GET"), Just("PUT"), Just("DELETE"), Just("PATCH")],
            path in path(),
            query in proptest::collection::vec((text(), text()), 0..4),
            headers in headers(),
            stage in prop_oneof![Just(None), Just(Some("$default")), Just(Some("prod"))],
            body in body(),
        ) {
            let event = event(rest, single_query, method, &path, &query, &headers, stage, &body);
            let bytes = Bytes::from(serde_json::to_vec(&event).unwrap());
            let expected = with_repeated_headers_kept(&bytes, lambda_http_reading(&bytes));
            prop_assert_eq!(our_reading(&bytes), expected);
        }
    }
}

/// The paths read without a URL parse are the ones the parse leaves alone.
#[test]
fn a_normal_path_is_what_url_parsing_leaves_as_it_is() {
    let parsed = |path: &str| url::Url::parse(&format!("http://localhost{path}")).unwrap().path().to_owned();
    for byte in 0x21u8..0x7f {
        let path = format!("/a{}b/c", byte as char);
        if is_normal_path(&path) {
            assert_eq!(parsed(&path), path, "{path:?} is changed by the parse");
        }
    }
    for path in ["/", "//x", "/a/.b/..c/", "/prod/hooks/github", "/v1/a;b=c/@x:y"] {
        assert!(is_normal_path(path), "{path}");
        assert_eq!(parsed(path), path);
    }
    for path in ["/a/./b", "/a/../b", "/a/.", "/a/..", "/a b", "/a%20b", "/café", "/a\\b", "a"] {
        assert!(!is_normal_path(path), "{path}");
    }
}
