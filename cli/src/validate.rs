//! `bindery validate`: load, resolve and build every component; on any
//! problem, list them all and exit non-zero.

use bindery::component::kinds::{CRON_TYPE, HTTP_TYPE, SQS_TYPE};

use crate::Failure;
use crate::args::ValidateArgs;
use crate::load::load;

pub(crate) async fn validate(args: ValidateArgs) -> Result<(), Failure> {
    let path = &args.components.components;
    let loaded = load(path, None).await?;
    println!("{}: {} component(s), all valid", path.display(), loaded.components.len());
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
            let source = match component.type_.as_str() {
                CRON_TYPE => format!(" schedule {:?}", component.metadata.get("schedule").unwrap_or_default()),
                SQS_TYPE => format!(" queue {:?}", component.metadata.get("queueName").unwrap_or_default()),
                HTTP_TYPE => " webhook".to_owned(),
                _ => String::new(),
            };
            format!("{source} -> POST {}", component.route)
        };
        println!("  {} ({}/{}) [{sides}]{input}", component.name, component.type_, component.version);
    }
    Ok(())
}
