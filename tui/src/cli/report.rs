//! `tessera report usage --month YYYY-MM [--out FILE]`
//!
//! A large site's report comes in parts (licfile::report); with `--out` each
//! part is its own file.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use store::ApiExt as _;

use clap::Subcommand;
use licfile::YearMonth;

use super::site;
use super::util::{self, Failure};

/// What to report.
#[derive(Debug, Subcommand)]
pub enum Cmd {
    /// A signed usage report of a month for the vendor's invoice.
    Usage(UsageArgs),
}

/// Arguments of `report usage`.
#[derive(Debug, clap::Args)]
pub struct UsageArgs {
    /// The month, YYYY-MM.
    #[arg(long, value_parser = parse_month)]
    month: YearMonth,
    /// Write the report here (never overwritten) instead of standard output;
    /// a report too large for one file is written as FILE's parts, numbered
    /// before the extension (usage.part1-of-3.tsr, ...).
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,
}

fn parse_month(s: &str) -> Result<YearMonth, String> {
    s.parse()
}

/// Where part `k` of `n` goes when the report is written to `out`: the part
/// number before the extension (`usage.tsr` gives `usage.part2-of-3.tsr`).
fn part_path(out: &Path, k: usize, n: usize) -> PathBuf {
    if n == 1 {
        return out.to_path_buf();
    }
    let stem = out
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let name = match out.extension() {
        Some(ext) => format!("{stem}.part{k}-of-{n}.{}", ext.to_string_lossy()),
        None => format!("{stem}.part{k}-of-{n}"),
    };
    out.with_file_name(name)
}

/// A part file of an earlier report written to `out`, if one is there: a new
/// report's parts must not mix with an old one's.
fn earlier_part(out: &Path) -> Option<PathBuf> {
    let dir = match out.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let stem = out.file_stem()?.to_string_lossy().into_owned();
    let prefix = format!("{stem}.part");
    std::fs::read_dir(dir)
        .ok()?
        .flatten()
        .map(|e| e.path())
        .find(|p| {
            p.file_name()
                .map(|n| n.to_string_lossy().starts_with(&prefix))
                .unwrap_or(false)
                && p.to_string_lossy().contains("-of-")
        })
}

/// Makes and writes the report.
pub fn run(ctx: &site::Ctx, cmd: Cmd) -> Result<ExitCode, Failure> {
    let Cmd::Usage(a) = cmd;
    if let Some(out) = &a.out {
        if out.exists() {
            return Err(Failure::refused(format!(
                "{} already exists; it is never overwritten",
                out.display()
            )));
        }
        if let Some(old) = earlier_part(out) {
            return Err(Failure::refused(format!(
                "{} is a part of an earlier report; move it away or choose another name",
                old.display()
            )));
        }
    }
    let store = site::connect(ctx)?;
    let parts = store.usage_report(a.month).map_err(site::refused)?;
    let n = parts.len();
    let Some((first, _)) = parts.first() else {
        return Err(Failure::refused("the report came back empty"));
    };
    match &a.out {
        Some(out) => {
            let mut written = Vec::with_capacity(n);
            for (k, (_, armored)) in parts.iter().enumerate() {
                let path = part_path(out, k + 1, n);
                util::write_new(&path, armored.as_bytes(), false)?;
                written.push(path.display().to_string());
            }
            let days: u64 = parts.iter().map(|(p, _)| p.user_days()).sum();
            let place = if n == 1 {
                format!("written to {}: send it to the vendor", written[0])
            } else {
                format!(
                    "too large for one file, so written in {n} parts, {} to {}: send the vendor every part",
                    written[0],
                    written[n - 1]
                )
            };
            util::print(&format!(
                "usage report {} for {}: {} pools, {days} daily user-days, {} metered services; {place}\n",
                first.report_id,
                first.month,
                first.pools.len(),
                first.metered.len(),
            ))?;
        }
        None => {
            // Each part is a whole file; several follow one another.
            let text = parts
                .iter()
                .map(|(_, a)| a.as_str())
                .collect::<Vec<_>>()
                .join("\n");
            util::print(&text)?;
            if n > 1 {
                // The vendor reads one part a file: say so where a redirect does not hide it.
                let _ = writeln!(
                    std::io::stderr().lock(),
                    "tessera: report {} is in {n} parts, printed one after another; the vendor needs each in its own file: `tessera report usage --month {} --out FILE` writes them so",
                    first.report_id,
                    first.month
                );
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parts_are_numbered_before_the_extension() {
        let out = Path::new("/tmp/x/usage-2026-11.tsr");
        assert_eq!(part_path(out, 1, 1), out);
        assert_eq!(
            part_path(out, 2, 3),
            Path::new("/tmp/x/usage-2026-11.part2-of-3.tsr")
        );
        assert_eq!(
            part_path(Path::new("usage"), 1, 2),
            Path::new("usage.part1-of-2")
        );
    }
}
