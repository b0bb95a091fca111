//! The API token check must not tell a caller how long the token is
//! (finding 4 of the second review): a slice comparison returns at once
//! when the lengths differ, so a right-length guess took longer than any
//! other. Timing is noisy here, so this counts instructions instead, under
//! valgrind's callgrind, which gives the same count for the same binary
//! and input every time.

use std::process::Command;

const EXPECTED: &str = "0123456789abcdef0123456789abcdef";

/// The instructions a thousand checks of `presented` take inside
/// `SecretToken::matches`, as callgrind counts them.
fn instructions(presented: &str) -> u64 {
    let probe = env!("CARGO_BIN_EXE_bindery-token-probe");
    let out = tempfile::NamedTempFile::new().unwrap();
    let output = Command::new("valgrind")
        .args(["--tool=callgrind", "--toggle-collect=*SecretToken*matches*"])
        .arg(format!("--callgrind-out-file={}", out.path().display()))
        .args([probe, EXPECTED, presented])
        .output()
        .unwrap_or_else(|e| panic!("valgrind is needed for this test (Debian package valgrind): {e}"));
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let profile = std::fs::read_to_string(out.path()).unwrap();
    let total = profile.lines().find_map(|l| l.strip_prefix("totals: ").or_else(|| l.strip_prefix("summary: ")));
    total.and_then(|t| t.trim().parse().ok()).unwrap_or_else(|| panic!("no totals in the profile:\n{profile}"))
}

#[test]
fn a_wrong_token_costs_the_same_whether_or_not_its_length_is_right() {
    let wrong = |len: usize| "x".repeat(len);
    let (shorter, same, longer) = (instructions(&wrong(31)), instructions(&wrong(32)), instructions(&wrong(33)));
    println!("instructions for 1000 checks of a wrong token of 31, 32, 33 bytes: {shorter}, {same}, {longer}");
    assert!(shorter > 0 && longer > 0, "nothing was counted: is the probe's symbol named SecretToken::matches?");
    // The cost may grow with what is presented (the caller knows that), but
    // the right length must not stand out from its neighbours.
    let around = (shorter + longer) / 2;
    assert!(same.abs_diff(around) * 100 <= around, "31: {shorter}, 32: {same}, 33: {longer}");
    // And where a right-length token differs does not show either.
    let first = instructions(&format!("X{}", &EXPECTED[1..]));
    let last = instructions(&format!("{}X", &EXPECTED[..31]));
    assert_eq!(first, last, "wrong in its first byte vs its last");
    assert!(instructions(EXPECTED) > 0);
}
