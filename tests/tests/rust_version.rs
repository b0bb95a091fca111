//! The workspace's `rust-version` is a promise: bindery builds with that
//! rustc. Our own code is held to it by clippy's `incompatible_msrv` lint
//! (it reads `rust-version`); this test holds the locked dependencies to it,
//! since a `cargo update` can lock a crate that needs a newer compiler
//! (serde-saphyr 2.2 needs 1.89 while the README said 1.85).

use std::process::Command;

use serde_json::Value;

/// `1.89`, `1.89.0` → `(1, 89, 0)`.
fn parse(version: &str) -> (u64, u64, u64) {
    let mut parts = version.split('.').map(|p| p.parse::<u64>().unwrap_or_else(|_| panic!("version {version:?}")));
    (parts.next().unwrap_or(0), parts.next().unwrap_or(0), parts.next().unwrap_or(0))
}

/// `cargo metadata` of the workspace as locked, for the platform the
/// functions run on (Lambda is Linux), so a Windows-only crate is not counted.
fn metadata() -> Value {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let output = Command::new(cargo)
        .args(["metadata", "--format-version", "1", "--locked", "--offline"])
        .args(["--filter-platform", "x86_64-unknown-linux-gnu"])
        .current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
        .output()
        .expect("cargo metadata runs");
    assert!(output.status.success(), "cargo metadata: {}", String::from_utf8_lossy(&output.stderr));
    serde_json::from_slice(&output.stdout).expect("cargo metadata prints JSON")
}

#[test]
fn no_locked_dependency_needs_a_newer_rustc_than_the_workspace_declares() {
    let metadata = metadata();
    let packages = metadata["packages"].as_array().expect("packages");
    let declared = packages
        .iter()
        .find(|p| p["name"] == "bindery")
        .and_then(|p| p["rust_version"].as_str())
        .expect("the bindery package has a rust-version");
    let resolved: Vec<&str> =
        metadata["resolve"]["nodes"].as_array().expect("resolve").iter().filter_map(|n| n["id"].as_str()).collect();

    let mut too_new: Vec<String> = packages
        .iter()
        .filter(|p| resolved.contains(&p["id"].as_str().unwrap_or_default()))
        .filter_map(|p| {
            let (name, version, needs) = (p["name"].as_str()?, p["version"].as_str()?, p["rust_version"].as_str()?);
            (parse(needs) > parse(declared)).then(|| format!("{name} {version} needs rustc {needs}"))
        })
        .collect();
    too_new.sort();

    assert!(
        too_new.is_empty(),
        "the workspace declares rust-version {declared}, but Cargo.lock holds:\n{}\n\
         raise rust-version in Cargo.toml (and the README), or lock older versions",
        too_new.join("\n")
    );
}

#[test]
fn every_member_declares_the_workspace_rust_version() {
    let metadata = metadata();
    let members: Vec<&str> =
        metadata["workspace_members"].as_array().expect("members").iter().filter_map(Value::as_str).collect();
    let missing: Vec<&str> = metadata["packages"]
        .as_array()
        .expect("packages")
        .iter()
        .filter(|p| members.contains(&p["id"].as_str().unwrap_or_default()) && p["rust_version"].is_null())
        .filter_map(|p| p["name"].as_str())
        .collect();
    assert!(missing.is_empty(), "members without rust-version.workspace = true: {missing:?}");
}
