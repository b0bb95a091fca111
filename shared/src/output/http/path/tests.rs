//! `path` joining: what Dapr appends, what a URI cannot hold, and every
//! spelling of a step up that is refused (and the look-alikes that are not).

use super::*;

#[test]
fn paths_are_appended_as_dapr_appends_them() {
    assert_eq!(join("/webhooks", None, "").unwrap(), "/webhooks/");
    assert_eq!(join("/webhooks/", None, "/tasks/1").unwrap(), "/webhooks/tasks/1");
    assert_eq!(join("/", None, "tasks?done=true&x=%2F").unwrap(), "/tasks?done=true&x=%2F");
    assert_eq!(join("/api", None, "a%20b/c.json").unwrap(), "/api/a%20b/c.json");
    assert_eq!(join("/api", None, "a..b/.well-known/./x").unwrap(), "/api/a..b/.well-known/./x");
}

#[test]
fn the_component_query_comes_first() {
    assert_eq!(join("/fn", Some("code=k"), "run?x=1").unwrap(), "/fn/run?code=k&x=1");
    assert_eq!(join("/fn", Some("code=k"), "run").unwrap(), "/fn/run?code=k");
    assert_eq!(join("/fn", None, "run?").unwrap(), "/fn/run");
}

#[test]
fn what_a_uri_cannot_hold_is_encoded() {
    assert_eq!(join("/", None, "a b/café?q=a b|c").unwrap(), "/a%20b/caf%C3%A9?q=a%20b%7Cc");
    assert_eq!(join("/", None, "{id}\"<>^`").unwrap(), "/%7Bid%7D%22%3C%3E%5E%60");
}

#[test]
fn at_signs_past_the_first_slash_and_urls_inside_stay_in_the_path() {
    assert_eq!(join("/api", None, "users/@me").unwrap(), "/api/users/@me");
    assert_eq!(join("/api", None, "/users/@me?x=1").unwrap(), "/api/users/@me?x=1");
    assert_eq!(join("/mail", None, "to/alice@example.com").unwrap(), "/mail/to/alice@example.com");
    assert_eq!(join("/npm", None, "%40scope/pkg").unwrap(), "/npm/%40scope/pkg");
    assert_eq!(join("/cb", None, "x?by=bob@example.com").unwrap(), "/cb/x?by=bob@example.com");
    assert_eq!(join("/web", None, "2020/https://example.com").unwrap(), "/web/2020/https://example.com");
    assert_eq!(join("/cb", None, "?next=https://example.com/x").unwrap(), "/cb/?next=https://example.com/x");
    assert_eq!(join("/", None, "evil.com:443/x").unwrap(), "/evil.com:443/x");
}

#[test]
fn escapes_are_refused() {
    for path in [
        "..",
        "../admin",
        "/..",
        "a/../../admin",
        "%2e%2e/admin",
        ".%2E/admin",
        "%252e%252e/admin",
        "..%2fadmin",
        "a%5c..%5cb",
        "..;/admin",
        "%2e%2e;jsessionid=1/admin",
        "http://evil.example.com/",
        "https://evil.example.com",
        "/http://evil.example.com",
        "//evil.example.com/x",
        "a\\..\\b",
        "a\\b",
        "a\nb",
        "a\u{7f}b",
        "%zz",
        "a#frag",
        "a?b#frag",
    ] {
        assert!(join("/base", None, path).is_err(), "{path:?} was accepted");
    }
}

#[test]
fn user_information_is_refused() {
    for path in [
        "@evil.com/x",
        "@evil.com",
        "user:pw@evil.com",
        "user:pw@evil.com/x?y=1",
        "user@evil.com",
        "@evil.com:8080/x",
        "/@evil.com/x",
        "//user@evil.com",
        "a@b?c",
    ] {
        let why = join("/base", None, path).unwrap_err();
        assert!(why.contains("user information") || why.contains("absolute URL"), "{path:?}: {why}");
    }
    assert!(join("", None, "user:pw@evil.com").unwrap_err().contains("'@' before its first '/'"));
}

/// Spellings that Windows, IIS, Tomcat, old UTF-8 decoders or a
/// normalising app turn into `..`, or cut down to it. Each was accepted
/// before the rule on dot segments, controls and overlong UTF-8.
#[test]
fn dot_segments_servers_normalise_to_dot_dot_are_refused() {
    let paths = [
        // Only dots, or dots and spaces: Windows drops trailing dots and spaces.
        "...",
        ".../admin",
        "a/..../b",
        ".. /admin",
        "..%20/admin",
        ". ./admin",
        ".%2e./admin",
        "%2e%2e%2e/admin",
        "..%2520/admin",
        "..%c2%a0/admin",
        // Encoded controls: C servers stop at NUL, others trim tabs and newlines.
        "..%00/admin",
        "..%00.png",
        "%00",
        "a/b%00c",
        "..%09/admin",
        "..%0d%0a/admin",
        "..%2500/admin",
        "..%c2%85/admin",
        // Overlong UTF-8 for '.', '/' and a backslash, which old decoders accept.
        "%c0%ae%c0%ae/admin",
        "%C0%AE%C0%AE/admin",
        "%e0%80%ae%e0%80%ae/admin",
        "%f0%80%80%ae%f0%80%80%ae/admin",
        "%f8%80%80%80%ae%f8%80%80%80%ae/admin",
        "..%c0%afadmin",
        "..%c1%9cadmin",
        "%25c0%25ae%25c0%25ae/admin",
        "a%c0%aeb",
        // IIS's %uXXXX, a layer down (at the top Go already refuses it as malformed).
        "%25u002e%25u002e/admin",
        "..%25u002fadmin",
        "%2525u002e%2525u002e/admin",
        // Fullwidth and compatibility forms that NFKC (and Windows' best fit) turn into '.', '/' and a backslash.
        "\u{ff0e}\u{ff0e}/admin",
        "%ef%bc%8e%ef%bc%8e/admin",
        "..\u{ff0f}admin",
        "..\u{ff3c}admin",
        "\u{2025}/admin",
        "\u{fe52}\u{fe52}/admin",
        "%25uff0e%25uff0e/admin",
        // What a server may cut a segment at: Tomcat's ';', NTFS streams' ':', a decoded '?' or '#'.
        "... ;x/admin",
        "..::$DATA/admin",
        "..%3fx/admin",
        "..%23x/admin",
    ];
    let accepted: Vec<_> = paths.iter().filter(|path| join("/base", None, path).is_ok()).collect();
    assert!(accepted.is_empty(), "accepted: {accepted:?}");
    for path in paths {
        let why = join("/base", None, path).unwrap_err();
        assert!(!why.contains(path), "{path:?}: the reason repeats the path: {why}");
    }
}

#[test]
fn each_refusal_names_its_rule() {
    let why = |path| join("/base", None, path).unwrap_err();
    assert!(why(".. /x").contains("'..' segment"), "{}", why(".. /x"));
    assert!(why("%ef%bc%8e%ef%bc%8e").contains("'..' segment"), "{}", why("%ef%bc%8e%ef%bc%8e"));
    assert!(why("..%00.png").contains("control character"), "{}", why("..%00.png"));
    assert!(why("%c0%ae%c0%ae").contains("overlong UTF-8"), "{}", why("%c0%ae%c0%ae"));
    assert!(why("%u002e%u002e").contains("malformed %-escape"), "{}", why("%u002e%u002e"));
}

#[test]
fn ordinary_dots_spaces_and_unicode_stay_allowed() {
    for (path, joined) in [
        ("file.tar.gz", "/base/file.tar.gz"),
        ("v1.2/x", "/base/v1.2/x"),
        ("a..b/c...d", "/base/a..b/c...d"),
        (".well-known/openid-configuration", "/base/.well-known/openid-configuration"),
        ("./x/.", "/base/./x/."),
        (".hidden/..x/x..", "/base/.hidden/..x/x.."),
        ("wiki/Washington,_D.C.", "/base/wiki/Washington,_D.C."),
        ("to/alice@example.com", "/base/to/alice@example.com"),
        ("my file .txt", "/base/my%20file%20.txt"),
        ("caf%E9/%C3%A9t%C3%A9", "/base/caf%E9/%C3%A9t%C3%A9"),
        ("\u{30d5}\u{30a1}\u{30a4}\u{30eb}\u{ff0e}txt", "/base/%E3%83%95%E3%82%A1%E3%82%A4%E3%83%AB%EF%BC%8Etxt"),
        ("%2e/x", "/base/%2e/x"),
        ("a%2fb", "/base/a%2fb"),
        ("x?q=..%00&r=%c0%ae", "/base/x?q=..%00&r=%c0%ae"),
        ("C:/x", "/base/C:/x"),
    ] {
        assert_eq!(join("/base", None, path).as_deref(), Ok(joined), "{path:?}");
    }
}

#[test]
fn a_literal_percent_deeper_down_is_data() {
    assert_eq!(join("/", None, "100%25").unwrap(), "/100%25");
    assert_eq!(join("/", None, "%2525zz").unwrap(), "/%2525zz");
}
