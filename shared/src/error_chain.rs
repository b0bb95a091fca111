//! An error and its causes on one line, for messages people read.
//!
//! The top-level messages of hyper and the AWS SDK say little on their own
//! ("client error (Connect)", "dispatch failure"); the cause that says what
//! happened is a few `source()`s down. `{:?}` would show it, in a dump nobody
//! wants in a log line or an error answer.

use std::error::Error;

/// `error` and each of its sources, joined by `": "`, e.g.
/// `client error (Connect): tcp connect error: Connection refused (os error 111)`.
/// A cause that the part before it already states (some errors repeat their
/// source in their own message) is not repeated.
pub(crate) fn error_chain(error: &dyn Error) -> String {
    let mut parts = vec![error.to_string()];
    let mut source = error.source();
    while let Some(cause) = source {
        let text = cause.to_string();
        if !parts.last().is_some_and(|last| last.contains(&text)) {
            parts.push(text);
        }
        source = cause.source();
    }
    parts.join(": ")
}

#[cfg(test)]
mod tests {
    use std::fmt;

    use super::*;

    #[derive(Debug)]
    struct Layer(&'static str, Option<Box<Layer>>);

    impl fmt::Display for Layer {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str(self.0)
        }
    }

    impl Error for Layer {
        fn source(&self) -> Option<&(dyn Error + 'static)> {
            self.1.as_deref().map(|e| e as &(dyn Error + 'static))
        }
    }

    fn layers(texts: &[&'static str]) -> Layer {
        texts.iter().rev().fold(None, |inner, text| Some(Layer(text, inner.map(Box::new)))).unwrap_or(Layer("", None))
    }

    #[test]
    fn every_cause_is_on_the_line_once() {
        assert_eq!(error_chain(&layers(&["dispatch failure"])), "dispatch failure");
        assert_eq!(
            error_chain(&layers(&["client error (Connect)", "tcp connect error", "Connection refused"])),
            "client error (Connect): tcp connect error: Connection refused"
        );
        assert_eq!(
            error_chain(&layers(&["io error: timed out", "timed out", "deadline"])),
            "io error: timed out: deadline"
        );
    }
}
