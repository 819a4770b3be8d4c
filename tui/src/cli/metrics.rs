//! `tessera metrics [--out FILE]`: the metrics once, as Prometheus text, for
//! the node exporter's textfile collector (or a look by hand).

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use store::ApiExt as _;

use super::site;
use super::util::{self, Failure};

/// Arguments of `metrics`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Write to FILE (whole or not at all: a new file renamed over it, as the
    /// textfile collector needs; name it *.prom) instead of standard output.
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,
}

/// Prints (or writes) the metrics: through the service when it answers,
/// with its counters; else read from the store alone, without them.
pub fn run(ctx: &site::Ctx, args: Args) -> Result<ExitCode, Failure> {
    let api = site::connect(ctx)?;
    let metrics = api.metrics().map_err(site::refused)?;
    let mut text = String::new();
    if metrics.service.is_none() {
        // Said in the output itself, where whoever reads the file looks:
        // the counters are missing, not zero.
        text.push_str(
            "# Read from the store directly: no service answered, so the service's counters (requests, latency, connections, syncs) are not included.\n",
        );
    }
    text.push_str(&store::metrics::render(&metrics));
    match &args.out {
        None => util::print(&text)?,
        Some(path) => write_whole(path, &text)?,
    }
    Ok(ExitCode::SUCCESS)
}

/// Writes `text` to `path` whole: a new file beside it, renamed over it, so
/// that the collector never reads half of it.
fn write_whole(path: &Path, text: &str) -> Result<(), Failure> {
    let cannot = |e: std::io::Error| {
        Failure::refused(format!(
            "cannot write the metrics to {}: {e}",
            path.display()
        ))
    };
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    // A dot file without the .prom suffix: the collector never picks it up.
    let mut tmp = tempfile::Builder::new()
        .prefix(".tessera-metrics.")
        .tempfile_in(&dir)
        .map_err(cannot)?;
    use std::io::Write as _;
    tmp.write_all(text.as_bytes()).map_err(cannot)?;
    // The node exporter reads it, often as another account; nothing secret.
    {
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(tmp.path(), std::fs::Permissions::from_mode(0o644))
            .map_err(cannot)?;
    }
    tmp.persist(path).map_err(|e| cannot(e.error))?;
    Ok(())
}
