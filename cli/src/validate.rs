//! `bindery validate`: load, resolve and build every component; on any
//! problem, list them all and exit non-zero.

use bindery::component::{BindingKind, InputKind};

use crate::Failure;
use crate::args::ValidateArgs;
use crate::load::load;

pub(crate) async fn validate(args: ValidateArgs) -> Result<(), Failure> {
    let paths = &args.components.resources;
    let loaded = load(paths, args.app_id.as_deref()).await?;
    loaded.print_warnings();
    let shown: Vec<String> = paths.iter().map(|p| p.display().to_string()).collect();
    println!("{}: {} component(s), all valid", shown.join(", "), loaded.components.len());
    for component in loaded.components.iter() {
        let d = component.directions;
        let sides = match (d.input, d.output) {
            (true, true) => "input, output",
            (true, false) => "input",
            (false, true) => "output",
            (false, false) => "-",
        };
        let input = if !d.input {
            String::new()
        } else {
            let source = match component.kind.binding().and_then(BindingKind::input) {
                Some(InputKind::Cron) => {
                    format!(" schedule {:?}", component.metadata.get("schedule").unwrap_or_default())
                }
                Some(InputKind::Sqs) => format!(" queue {:?}", component.metadata.get("queueName").unwrap_or_default()),
                Some(InputKind::Webhook) => " webhook".to_owned(),
                Some(InputKind::Sns) => {
                    format!(" SNS topic {:?}", component.metadata.get("topicArn").unwrap_or_default())
                }
                Some(InputKind::S3Events) => {
                    format!(" S3 events of bucket {:?}", component.metadata.get("bucket").unwrap_or_default())
                }
                Some(InputKind::Kinesis) => {
                    format!(" kinesis stream {:?}", component.metadata.get("streamName").unwrap_or_default())
                }
                Some(InputKind::DynamoDbStreams) => {
                    format!(" stream of table {:?}", component.metadata.get("table").unwrap_or_default())
                }
                None => String::new(),
            };
            format!("{source} -> POST {}", component.route)
        };
        println!("  {} ({}/{}) [{sides}]{input}", component.name, component.kind, component.version);
    }
    for unserved in loaded.components.unserved() {
        println!("  {} ({}) [not served by bindery]", unserved.name, unserved.type_);
    }
    let mut skipped: Vec<&bindery::component::ComponentRef> =
        loaded.components.ignored().iter().filter_map(|e| e.component.as_deref()).collect();
    skipped.dedup_by(|a, b| a.name == b.name);
    for c in skipped {
        println!("  {} ({}/{}) [skipped: spec.ignoreErrors]", c.name, c.type_, c.version);
    }
    Ok(())
}
