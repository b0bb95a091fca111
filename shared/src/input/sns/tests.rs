use std::process::Command;

use aws_lambda_events::sns::SnsEvent;

use super::*;

fn fixture(name: &str) -> String {
    std::fs::read_to_string(format!("{}/fixtures/events/{name}", env!("CARGO_MANIFEST_DIR"))).unwrap()
}

fn signing_file(name: &str) -> String {
    format!("{}/fixtures/sns-signing/{name}", env!("CARGO_MANIFEST_DIR"))
}

fn test_certificate() -> Vec<u8> {
    std::fs::read(signing_file("test-cert.der")).unwrap()
}

/// `text` signed with the test key by openssl, base64 as SNS sends it.
fn openssl_sign(text: &str, digest: &str) -> String {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("text");
    std::fs::write(&input, text).unwrap();
    let output = Command::new("openssl")
        .args(["dgst", digest, "-sign", &signing_file("test-key.pem")])
        .arg(&input)
        .output()
        .expect("openssl runs");
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    STANDARD.encode(output.stdout)
}

/// The fixture's one record, with `Signature` and `SignatureVersion` set.
fn signed(name: &str, version: &str) -> Box<RawValue> {
    let mut event: serde_json::Value = serde_json::from_str(&fixture(name)).unwrap();
    let record = &mut event["Records"][0];
    record["Sns"]["SignatureVersion"] = version.into();
    let text = {
        let raw = serde_json::value::to_raw_value(&*record).unwrap();
        SnsNotification::from_record(&raw).unwrap().string_to_sign()
    };
    let digest = if version == "1" { "-sha1" } else { "-sha256" };
    record["Sns"]["Signature"] = openssl_sign(&text, digest).into();
    serde_json::value::to_raw_value(&*record).unwrap()
}

#[test]
fn every_fixture_reads_as_aws_lambda_events_reads_it() {
    for name in ["sns-notification.json", "sns-no-subject.json"] {
        let text = fixture(name);
        let official: SnsEvent = serde_json::from_str(&text).unwrap();
        let records = parse_event(text.as_bytes()).unwrap();
        for (raw, record) in records.into_iter().zip(official.records) {
            let ours = SnsNotification::from_record(raw).unwrap();
            let sns = record.sns;
            assert_eq!(ours.message_id, sns.message_id, "{name}");
            assert_eq!(ours.topic_arn, sns.topic_arn, "{name}");
            assert_eq!(ours.subject.as_deref(), sns.subject.as_deref(), "{name}");
            assert_eq!(ours.message, sns.message, "{name}");
            assert_eq!(ours.type_, sns.sns_message_type, "{name}");
            let time: chrono::DateTime<chrono::Utc> = ours.timestamp.parse().unwrap();
            assert_eq!(time, sns.timestamp, "{name}");
            let signature = ours.signature.clone().unwrap();
            assert_eq!(
                (signature.version, signature.cert_url),
                (sns.signature_version.into(), sns.signing_cert_url.into())
            );
            let mut attributes: Vec<(String, String)> =
                sns.message_attributes.into_iter().map(|(k, v)| (k, v.value)).collect();
            attributes.sort();
            let ours_attributes: Vec<(String, String)> =
                ours.attributes.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
            assert_eq!(ours_attributes, attributes, "{name}");
        }
    }
}

#[test]
fn the_event_is_the_message_with_its_metadata() {
    let text = fixture("sns-no-subject.json");
    let records = parse_event(text.as_bytes()).unwrap();
    let event = SnsNotification::from_record(records[0]).unwrap().event();
    assert_eq!(event.data, "{\"order\":\"o-17\",\"note\":\"line 1\\nline 2\"}".as_bytes());
    let metadata: Vec<(&str, &str)> = event.metadata.iter().map(|(k, v)| (k.as_ref(), v.as_str())).collect();
    assert_eq!(
        metadata,
        [
            ("messageId", "3c7b0e8a-8f0b-5d7e-9a51-2f0a6e1d4b9c"),
            ("topicArn", "arn:aws:sns:eu-west-1:123456789012:orders"),
            ("timestamp", "2026-12-05T03:30:00.125Z"),
            ("attr-priority", "3"),
            ("attr-tenant", "acme"),
        ],
        "no subject when SNS sent none"
    );
}

#[test]
fn the_string_to_sign_is_aws_s_with_the_subject_only_when_present() {
    let text = fixture("sns-notification.json");
    let notification = SnsNotification::from_record(parse_event(text.as_bytes()).unwrap()[0]).unwrap();
    assert_eq!(
        notification.string_to_sign(),
        "Message\nHello from SNS!\nMessageId\n95df01b4-ee98-5cb9-9903-4c221d41eb5e\nSubject\nTestInvoke\n\
         Timestamp\n2019-01-02T12:45:07.000Z\nTopicArn\narn:aws:sns:us-east-1:123456789012:sns-lambda\nType\nNotification\n"
    );
    let text = fixture("sns-no-subject.json");
    let notification = SnsNotification::from_record(parse_event(text.as_bytes()).unwrap()[0]).unwrap();
    assert!(!notification.string_to_sign().contains("Subject"));
    // JSON escapes are decoded before signing, as SNS signs the values.
    assert!(notification.string_to_sign().contains("line 1\\nline 2"));
}

#[test]
fn signatures_of_both_versions_verify_and_any_change_is_refused() {
    let certificate = test_certificate();
    for (fixture_name, version) in [("sns-notification.json", "1"), ("sns-no-subject.json", "2")] {
        let raw = signed(fixture_name, version);
        let notification = SnsNotification::from_record(&raw).unwrap();
        notification.verify(&certificate).unwrap_or_else(|e| panic!("{fixture_name} v{version}: {e}"));

        let mut changed = notification.clone();
        changed.message = Cow::Owned(format!("{} ", changed.message));
        let error = changed.verify(&certificate).unwrap_err();
        assert!(error.message.contains("does not match the certificate"), "{error}");

        let mut unsubjected = notification.clone();
        unsubjected.subject = Some(Cow::Borrowed("forged"));
        assert!(unsubjected.verify(&certificate).is_err());
    }
    // A v1 signature is not a v2 one.
    let raw = signed("sns-notification.json", "1");
    let mut notification = SnsNotification::from_record(&raw).unwrap();
    notification.signature.as_mut().unwrap().version = Cow::Borrowed("2");
    assert!(notification.verify(&certificate).is_err());
    notification.signature.as_mut().unwrap().version = Cow::Borrowed("3");
    let error = notification.verify(&certificate).unwrap_err();
    assert!(error.message.contains("neither 1 nor 2"), "{error}");
    notification.signature = None;
    assert!(notification.verify(&certificate).unwrap_err().message.contains("no signature"));
    // Not a certificate at all.
    let raw = signed("sns-notification.json", "1");
    let error = SnsNotification::from_record(&raw).unwrap().verify(b"not DER").unwrap_err();
    assert!(error.message.contains("cannot be read"), "{error}");
}

#[test]
fn only_sns_hosts_may_serve_the_signing_certificate() {
    for good in [
        "https://sns.us-east-1.amazonaws.com/SimpleNotificationService-ac565b8b1a6c5d002d285f9598aa1d9b.pem",
        "https://sns.cn-north-1.amazonaws.com.cn/SimpleNotificationService-1.pem",
        "https://sns.us-gov-west-1.amazonaws.com/x.pem",
    ] {
        assert!(check_cert_url(good).is_ok(), "{good}");
    }
    for bad in [
        "http://sns.us-east-1.amazonaws.com/x.pem",
        "https://sns.us-east-1.amazonaws.com.evil.example/x.pem",
        "https://s3.amazonaws.com/my-bucket/x.pem",
        "https://my-bucket.s3.amazonaws.com/x.pem",
        "https://sns.us-east-1.amazonaws.com:8443/x.pem",
        "https://user@sns.us-east-1.amazonaws.com/x.pem",
        "https://sns.us-east-1.amazonaws.com/x.txt",
        "https://sns..amazonaws.com/x.pem",
        "https://sns.a.amazonaws.com/x.pem",
        "not a url",
    ] {
        assert!(check_cert_url(bad).is_err(), "{bad}");
    }
}

#[test]
fn a_malformed_record_fails_alone_and_a_non_event_whole() {
    let text = r#"{"Records":[{"Sns":{"MessageId":"m"}}, {"Sns":{"Type":"Notification","MessageId":"m2","TopicArn":"arn:aws:sns:us-east-1:1:t","Message":"hi","Timestamp":"t"}}, 7]}"#;
    let records = parse_event(text.as_bytes()).unwrap();
    assert_eq!(SnsNotification::from_record(records[0]).unwrap_err().message, "malformed SNS record: no Sns.TopicArn");
    assert_eq!(SnsNotification::from_record(records[1]).unwrap().event().data, "hi".as_bytes());
    assert!(SnsNotification::from_record(records[2]).is_err());
    for payload in ["", "{}", "[]", "null"] {
        assert!(parse_event(payload.as_bytes()).unwrap_err().message.starts_with("not an SNS event"), "{payload}");
    }
}

#[test]
fn the_config_needs_the_topic_and_may_pin_a_certificate() {
    let topic = "arn:aws:sns:us-east-1:123456789012:orders";
    let config = SnsSourceConfig::from_metadata(&Metadata::from_pairs([("topicArn", topic)])).unwrap();
    assert_eq!((config.topic_arn.as_str(), config.verify_signature), (topic, false));
    let errors = SnsSourceConfig::from_metadata(&Metadata::from_pairs([("topicArn", "orders")])).unwrap_err();
    assert_eq!(errors[0].field, "topicArn");
    // Without verifySignature a pinned certificate still checks what comes over HTTP.
    let pinned = [("topicArn", topic), ("signingCertificate", "-----BEGIN CERTIFICATE-----")];
    let config = SnsSourceConfig::from_metadata(&Metadata::from_pairs(pinned)).unwrap();
    assert!(config.signing_certificate.is_some() && !config.verify_signature);
}

/// What SNS posts to an HTTPS subscription (the fields of AWS's examples).
const HTTP_CONFIRMATION: &str = r#"{
  "Type" : "SubscriptionConfirmation",
  "MessageId" : "165545c9-2a5c-472c-8df2-7ff2be2b3b1b",
  "Token" : "2336412f37f",
  "TopicArn" : "arn:aws:sns:us-west-2:123456789012:MyTopic",
  "Message" : "You have chosen to subscribe to the topic arn:aws:sns:us-west-2:123456789012:MyTopic.\nTo confirm the subscription, visit the SubscribeURL included in this message.",
  "SubscribeURL" : "https://sns.us-west-2.amazonaws.com/?Action=ConfirmSubscription&TopicArn=arn:aws:sns:us-west-2:123456789012:MyTopic&Token=2336412f37f",
  "Timestamp" : "2012-04-26T20:45:04.751Z",
  "SignatureVersion" : "1",
  "Signature" : "EXAMPLEpH+DcEwjAPg8O9mY8dReBSwksfg2S7WKQcikcNKWLQjwu6A4VbeS0QHVCkhRS7fUQvi2egU3N858fiTDN6bkkOxYDVrY0Ad8L10Hs3zH81mtnPk5uvvolIC1CXGu43obcgFxeL3khZl8IKvO61GWB6jI9b5+gLPoBc1Q=",
  "SigningCertURL" : "https://sns.us-west-2.amazonaws.com/SimpleNotificationService-f3ecfb7224c7233fe7bb5f59f96de52f.pem"
}"#;

#[test]
fn an_http_confirmation_is_read_and_signs_its_own_fields() {
    let message = SnsNotification::from_http_body(HTTP_CONFIRMATION.as_bytes()).unwrap();
    assert_eq!(message.type_, "SubscriptionConfirmation");
    assert_eq!(message.token.as_deref(), Some("2336412f37f"));
    let expected = "Message\nYou have chosen to subscribe to the topic arn:aws:sns:us-west-2:123456789012:MyTopic.\n\
        To confirm the subscription, visit the SubscribeURL included in this message.\n\
        MessageId\n165545c9-2a5c-472c-8df2-7ff2be2b3b1b\n\
        SubscribeURL\nhttps://sns.us-west-2.amazonaws.com/?Action=ConfirmSubscription&TopicArn=arn:aws:sns:us-west-2:123456789012:MyTopic&Token=2336412f37f\n\
        Timestamp\n2012-04-26T20:45:04.751Z\nToken\n2336412f37f\n\
        TopicArn\narn:aws:sns:us-west-2:123456789012:MyTopic\nType\nSubscriptionConfirmation\n";
    assert_eq!(message.string_to_sign(), expected);
    let signature = message.signature.unwrap();
    assert!(signature.cert_url.ends_with(".pem"), "SigningCertURL, as HTTP spells it");
    let url = check_subscribe_url(message.subscribe_url.as_deref().unwrap()).unwrap();
    assert_eq!(url.host_str(), Some("sns.us-west-2.amazonaws.com"));
}

#[test]
fn an_http_notification_is_read_like_a_record_and_other_bodies_are_refused() {
    let body = r#"{"Type":"Notification","MessageId":"m-1","TopicArn":"arn:aws:sns:us-east-1:1:t","Subject":"s",
        "Message":"hi","Timestamp":"2026-12-05T08:00:00.000Z","SignatureVersion":"2","Signature":"c2ln",
        "SigningCertURL":"https://sns.us-east-1.amazonaws.com/x.pem","UnsubscribeURL":"https://sns.us-east-1.amazonaws.com/?Action=Unsubscribe",
        "MessageAttributes":{"kind":{"Type":"String","Value":"http"}}}"#;
    let message = SnsNotification::from_http_body(body.as_bytes()).unwrap();
    let event = message.event();
    assert_eq!(&event.data[..], b"hi");
    assert_eq!(event.metadata("attr-kind"), Some("http"));
    let names: Vec<String> = message.string_to_sign().lines().step_by(2).map(str::to_owned).collect();
    assert_eq!(names, ["Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type"]);

    for (body, why) in [
        ("[1]", "not an SNS message"),
        (r#"{"Type":"Other","MessageId":"m","TopicArn":"t","Message":"m","Timestamp":"t"}"#, "is not Notification"),
        (
            r#"{"Type":"SubscriptionConfirmation","MessageId":"m","TopicArn":"t","Message":"m","Timestamp":"t"}"#,
            "needs Token",
        ),
        (r#"{"Type":"Notification","TopicArn":"t","Message":"m","Timestamp":"t"}"#, "no MessageId"),
    ] {
        let error = SnsNotification::from_http_body(body.as_bytes()).unwrap_err();
        assert!(error.message.contains(why), "{body}: {error}");
    }
}

#[test]
fn only_sns_s_own_confirm_subscription_url_is_followed() {
    for url in [
        "http://sns.us-east-1.amazonaws.com/?Action=ConfirmSubscription",
        "https://sns.us-east-1.amazonaws.com.evil.example/?Action=ConfirmSubscription",
        "https://sns.us-east-1.amazonaws.com:8443/?Action=ConfirmSubscription",
        "https://sns.us-east-1.amazonaws.com/?Action=Unsubscribe",
        "https://sns.us-east-1.amazonaws.com/other?Action=ConfirmSubscription",
        "https://attacker.example/?Action=ConfirmSubscription",
    ] {
        assert!(check_subscribe_url(url).is_err(), "{url}");
    }
    assert!(check_subscribe_url("https://sns.eu-west-1.amazonaws.com/?Action=ConfirmSubscription&Token=t").is_ok());
}
