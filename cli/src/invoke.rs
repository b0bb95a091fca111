//! `bindery invoke`: one output-binding call from the shell. The data is
//! passed as is (gRPC's rule), the answer's data goes to stdout and its
//! metadata to stderr, so the output can be piped.

use std::io::Write;

use bindery::output::InvokeRequest;

use crate::Failure;
use crate::args::InvokeArgs;
use crate::load::load;

pub(crate) async fn invoke(args: InvokeArgs) -> Result<(), Failure> {
    let data = match (&args.data, &args.data_file) {
        (Some(text), _) => text.clone().into_bytes(),
        (None, Some(file)) => {
            std::fs::read(file).map_err(|e| Failure::new(format!("cannot read --data-file {}: {e}", file.display())))?
        }
        (None, None) => Vec::new(),
    };
    let mut request = InvokeRequest::new(args.operation.clone(), data);
    for item in &args.metadata {
        let (key, value) = item
            .split_once('=')
            .ok_or_else(|| Failure::new(format!("--metadata {item:?} is not KEY=VALUE")).with_code(2))?;
        request.metadata.insert(key.to_owned(), value.to_owned());
    }
    let loaded = load(&args.components.resources, None).await?;
    loaded.print_warnings();
    match loaded.bindings.invoke(&args.binding, request).await {
        Ok(None) => Ok(()),
        Ok(Some(response)) => {
            for (key, value) in &response.metadata {
                crate::stderr_line(format_args!("{key}: {value}"));
            }
            let mut out = std::io::stdout().lock();
            out.write_all(&response.data)
                .and_then(|()| if response.data.ends_with(b"\n") { Ok(()) } else { out.write_all(b"\n") })
                .map_err(|e| Failure::new(format!("cannot write the answer: {e}")))
        }
        Err(error) => {
            let mut message = format!("error invoking output binding {}: {}", args.binding, error.message);
            if let Some(response) = &error.response {
                for (key, value) in &response.metadata {
                    message.push_str(&format!("\n  {key}: {value}"));
                }
                if !response.data.is_empty() {
                    message.push_str(&format!("\n  body: {}", String::from_utf8_lossy(&response.data)));
                }
            }
            Err(Failure::new(message))
        }
    }
}
