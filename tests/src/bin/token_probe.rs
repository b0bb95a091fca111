//! `bindery-token-probe EXPECTED PRESENTED`: checks PRESENTED against the
//! token EXPECTED a thousand times, as the Dapr API checks `dapr-api-token`.
//! Run under callgrind by `tests/tests/e2e/token_compare.rs`, which counts
//! the instructions the checks take: a count, not a time, so the same
//! binary and input always give the same figure.

use std::hint::black_box;

use bindery::token::SecretToken;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let [_, expected, presented] = &args[..] else {
        eprintln!("usage: bindery-token-probe EXPECTED PRESENTED");
        std::process::exit(2);
    };
    let token = SecretToken::new(expected.as_bytes());
    let mut matched = 0;
    for _ in 0..1000 {
        matched += usize::from(black_box(&token).matches(black_box(presented.as_bytes())));
    }
    println!("{matched}");
}
