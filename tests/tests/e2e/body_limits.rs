//! No memory goes to a body before it may be taken (finding 3 of the second
//! review): `bindery run`'s webhook port answers 413 from `Content-Length`
//! alone, and reads at most `maxBodySize` of a chunked body, before the
//! signature is checked; the output API of `bindery sidecar` and
//! `bindery-extension` answers a declared oversized body 413 at once.
//! Peak RSS under 20 concurrent 64 MiB posts is printed for RELIABILITY.md.

use crate::common::raw_post::{Framing, declare_only, memory_kib, post_large};
use crate::common::{ComponentsDir, bindery_run, bindery_sidecar, component, secret, value};
use bindery_e2e::RecordingApp;

const POSTS: usize = 20;
const SIZE: usize = 64 << 20;

/// 20 posts at once; every status that came back.
async fn posts_at_once(port: u16, path: &str, framing: Framing) -> Vec<Option<u16>> {
    let posts = (0..POSTS).map(|_| post_large(port, path, &[("X-Hub-Signature-256", "sha256=00")], framing, SIZE));
    futures_util::future::join_all(posts).await
}

#[tokio::test(flavor = "multi_thread")]
async fn bindery_run_takes_no_memory_for_webhook_bodies_over_max_body_size() {
    let app = RecordingApp::start().await;
    let dir = ComponentsDir::new();
    let hook = [
        value("direction", "input"),
        value("signatureScheme", "github"),
        secret("signatureSecret", "GITHUB_WEBHOOK_SECRET"),
    ];
    dir.write("hook.yaml", &component("github-webhook", "bindings.http", &hook));
    let env = [("GITHUB_WEBHOOK_SECRET", "s3cret")];
    let (bindery, port) = bindery_run(&dir, &app.url(), &env, "github-webhook: webhook").await;
    let before = memory_kib(bindery.pid(), "VmRSS");

    let mut statuses = Vec::new();
    for framing in [Framing::Length, Framing::Chunked] {
        statuses.push((framing, posts_at_once(port, "/github-webhook", framing).await));
    }
    let peak = memory_kib(bindery.pid(), "VmHWM");
    println!(
        "bindery run, {POSTS} concurrent 64 MiB webhook posts each framed both ways: RSS before {before} KiB, peak {peak} KiB"
    );
    for (framing, statuses) in statuses {
        assert!(statuses.iter().all(|s| matches!(s, Some(413) | None)), "{framing:?}: {statuses:?}");
        assert!(statuses.contains(&Some(413)), "{framing:?}: {statuses:?}");
    }
    assert!(app.requests().is_empty(), "an unverified body reached the app");
    // Declared over maxBodySize (1 MiB by default): answered before a byte of body.
    assert_eq!(declare_only(port, "/github-webhook", &[], 64 << 20).await, Some(413), "{}", bindery.logs());
    // 20 bodies of 1 MiB is the most that may be held; 64 MiB each was.
    assert!(peak < before + 64 * 1024, "peak RSS {peak} KiB, {before} KiB before the posts");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_output_api_answers_a_declared_oversized_body_at_once_and_holds_none_of_it() {
    let dir = ComponentsDir::new();
    let files = dir.path().join("files");
    dir.write(
        "files.yaml",
        &component("files", "bindings.localstorage", &[value("rootPath", &files.display().to_string())]),
    );
    let sidecar = bindery_sidecar(&dir, &[]).await;
    let pid = sidecar.process.pid();
    let before = memory_kib(pid, "VmRSS");

    let statuses = posts_at_once(sidecar.http_port, "/v1.0/bindings/files", Framing::Length).await;
    let peak = memory_kib(pid, "VmHWM");
    println!("bindery sidecar, {POSTS} concurrent 64 MiB posts: RSS before {before} KiB, peak {peak} KiB");
    assert!(statuses.iter().all(|s| matches!(s, Some(413) | None)) && statuses.contains(&Some(413)), "{statuses:?}");
    let status = declare_only(sidecar.http_port, "/v1.0/bindings/files", &[], 1 << 40).await;
    assert_eq!(status, Some(413), "{}", sidecar.process.logs());
    // The 4 MiB limit of 20 bodies would be 80 MiB.
    assert!(peak < before + 32 * 1024, "peak RSS {peak} KiB, {before} KiB before the posts");
}
