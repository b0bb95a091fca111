//! `direction` and `route`, with Dapr's exact rules
//! (reference/dapr-bindings-contract.md §1.1, §4.3).

use super::error::FieldError;
use super::metadata::Metadata;

/// Which sides of a binding are initialised.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Directions {
    pub input: bool,
    pub output: bool,
    /// `direction` was written: input then needs no subscription probe.
    pub explicit: bool,
}

impl Directions {
    pub const fn implied(input: bool, output: bool) -> Self {
        Self { input, output, explicit: false }
    }
}

/// Parses a `direction` value: comma-separated, trimmed, case-insensitive
/// `input` and `output`. Dapr ignores other words; bindery refuses them,
/// since a typo would silently disable a binding.
pub fn parse_direction(value: &str) -> Result<Directions, FieldError> {
    let mut d = Directions { input: false, output: false, explicit: true };
    for part in value.split(',') {
        match part.trim().to_ascii_lowercase().as_str() {
            "input" => d.input = true,
            "output" => d.output = true,
            other => {
                return Err(FieldError::invalid(
                    "direction",
                    format!("expected \"input\", \"output\" or \"input, output\", got {other:?}"),
                ));
            }
        }
    }
    Ok(d)
}

/// The input route: the `route` item (matched case-sensitively, as Dapr does)
/// or the component name, always with one leading `/`.
pub(crate) fn route(name: &str, metadata: &Metadata) -> Result<String, FieldError> {
    let raw = metadata.iter().find(|i| i.name == "route").map(|i| i.value.trim()).unwrap_or(name);
    let path = format!("/{}", raw.trim_start_matches('/'));
    let valid = path.len() > 1
        && !path.split('/').any(|seg| seg == "..")
        && path.parse::<http::uri::PathAndQuery>().is_ok()
        && !path.contains(['?', '#']);
    if valid { Ok(path) } else { Err(FieldError::invalid("route", format!("{raw:?} is not a usable URL path"))) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn direction_words() {
        let d = parse_direction(" Output ,input").unwrap();
        assert!(d.input && d.output && d.explicit);
        assert!(!parse_direction("input").unwrap().output);
        assert_eq!(
            parse_direction("inptu").unwrap_err().message,
            "expected \"input\", \"output\" or \"input, output\", got \"inptu\""
        );
    }

    #[test]
    fn routes() {
        let items = |v: &str| Metadata::from_pairs([("route", v)]);
        assert_eq!(route("cron-binding", &Metadata::default()).unwrap(), "/cron-binding");
        assert_eq!(route("x", &items("/onevent")).unwrap(), "/onevent");
        assert_eq!(route("x", &items("api/bindings/cron")).unwrap(), "/api/bindings/cron");
        // `Route` is not `route`: Dapr compares the name exactly.
        assert_eq!(route("x", &Metadata::from_pairs([("Route", "/y")])).unwrap(), "/x");
        assert!(route("x", &items("/a/../b")).is_err());
        assert!(route("x", &items("/a b")).is_err());
        assert!(route("x", &items("/a?b=1")).is_err());
    }
}
