//! CloudFormation logical ids from component names.

/// `cron-binding` → `CronBinding`, `GITHUB_SECRET` → `GithubSecret`:
/// letters and digits only, each word capitalized; a name with none gets `Binding`.
pub fn logical_id(name: &str) -> String {
    let id: String = name
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|word| !word.is_empty())
        .map(|word| {
            let mut chars = word.chars();
            let first = chars.next().map(|c| c.to_ascii_uppercase().to_string()).unwrap_or_default();
            // An all-capitals word (an environment variable's) is lower-cased after its first letter.
            let shouting = word.chars().all(|c| !c.is_ascii_lowercase());
            first + &if shouting { chars.as_str().to_ascii_lowercase() } else { chars.as_str().to_owned() }
        })
        .collect();
    if id.is_empty() { "Binding".to_owned() } else { id }
}

#[cfg(test)]
mod tests {
    use super::logical_id;

    #[test]
    fn ids_are_alphanumeric_camel_case() {
        assert_eq!(logical_id("cron-binding"), "CronBinding");
        assert_eq!(logical_id("task_events.fifo"), "TaskEventsFifo");
        assert_eq!(logical_id("a1"), "A1");
        assert_eq!(logical_id("--"), "Binding");
        assert_eq!(logical_id("GITHUB_WEBHOOK_SECRET"), "GithubWebhookSecret");
        assert_eq!(logical_id("myQueue"), "MyQueue");
    }
}
