//! `bindery infra`: the SAM template of the components, written to a file
//! or stdout; what AWS does differently from Dapr goes to stderr.

use std::path::{Path, PathBuf};

use bindery_infra::{Architecture, Settings, load_components, sam_template};

use crate::Failure;
use crate::args::{Arch, InfraArgs};

pub(crate) fn infra(args: InfraArgs) -> Result<(), Failure> {
    // The functions read one folder, shipped as a layer: several cannot be one ContentUri.
    let components_path = match args.components.resources.as_slice() {
        [one] => one,
        several => {
            let named: Vec<String> = several.iter().map(|p| p.display().to_string()).collect();
            return Err(Failure::new(format!(
                "bindery infra ships one components folder as the functions' layer, but {} were given ({}): \
                 give one --resources-path (-d) holding every component the functions use",
                several.len(),
                named.join(", ")
            ))
            .with_code(2));
        }
    };
    let (components, secret_refs) = load_components(components_path, args.app_id.clone(), args.namespace.clone())
        .map_err(|e| Failure::new(e.to_string()))?;
    for line in components.warnings() {
        crate::stderr_line(format_args!("bindery: warning: {line}"));
    }
    let cwd = std::env::current_dir().map_err(|e| Failure::new(format!("cannot read the current directory: {e}")))?;
    let template_dir = match &args.out {
        Some(out) => absolute(&cwd, out.parent().unwrap_or(Path::new(""))),
        None => cwd.clone(),
    };
    let code_dir = match &args.code_uri {
        Some(dir) => absolute(&cwd, dir),
        None => cargo_project(&cwd).ok_or_else(|| {
            Failure::new(
                "no Cargo.toml here or above: name the Cargo project that builds the functions with --code-uri",
            )
        })?,
    };
    let settings = Settings {
        code_uri: relative(&template_dir, &code_dir),
        prebuilt: args.prebuilt,
        components_uri: relative(&template_dir, &absolute(&cwd, components_path)),
        architecture: match args.arch {
            Arch::Arm64 => Architecture::Arm64,
            Arch::X86_64 => Architecture::X86_64,
        },
        timeout_seconds: args.timeout,
        memory_mb: args.memory,
        binary: args.binaries.iter().find(|b| !b.contains('=')).cloned(),
        binaries: binaries(&args.binaries)?,
        app_id: args.app_id,
        now: chrono::Utc::now(),
        tracing: args.tracing,
        log_level: args.log_level,
        log_retention_days: args.log_retention_days,
    };
    let generated = sam_template(&components, &secret_refs, &settings).map_err(|e| Failure::new(e.to_string()))?;
    let yaml = generated.template.to_yaml();
    match &args.out {
        Some(out) => {
            std::fs::write(out, &yaml).map_err(|e| Failure::new(format!("{}: cannot write: {e}", out.display())))?
        }
        None => print!("{yaml}"),
    }
    for note in &generated.notes {
        crate::stderr_line(format_args!("note: {note}"));
    }
    Ok(())
}

/// The `BINDING=BINARY` pairs; a lone `BINARY` (for every function) at most once.
fn binaries(pairs: &[String]) -> Result<Vec<(String, String)>, Failure> {
    if pairs.iter().filter(|b| !b.contains('=')).count() > 1 {
        return Err(Failure::new("--binary without BINDING= is for every function: give it once"));
    }
    pairs
        .iter()
        .filter(|pair| pair.contains('='))
        .map(|pair| match pair.split_once('=') {
            Some((binding, binary)) if !binding.is_empty() && !binary.is_empty() => {
                Ok((binding.to_owned(), binary.to_owned()))
            }
            _ => Err(Failure::new(format!(
                "--binary {pair:?}: expected BINARY or BINDING=BINARY, e.g. cron-binding=task-api-lambda"
            ))),
        })
        .collect()
}

fn absolute(cwd: &Path, path: &Path) -> PathBuf {
    let joined = cwd.join(path);
    joined.canonicalize().unwrap_or(joined)
}

/// The nearest directory with a Cargo.toml, from `dir` upwards.
fn cargo_project(dir: &Path) -> Option<PathBuf> {
    dir.ancestors().find(|d| d.join("Cargo.toml").is_file()).map(Path::to_path_buf)
}

/// `to` relative to `from`, with `/` separators as SAM wants; `.` for the same directory.
fn relative(from: &Path, to: &Path) -> String {
    let path = pathdiff::diff_paths(to, from).unwrap_or_else(|| to.to_path_buf());
    let text = path.to_string_lossy().replace('\\', "/");
    if text.is_empty() { ".".to_owned() } else { text }
}
