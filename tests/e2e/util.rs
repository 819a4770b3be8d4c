//! A temporary directory to run `tessera` in, and helpers to read what it wrote.

use std::path::{Path, PathBuf};

use assert_cmd::Command;

/// The `tessera` binary under test.
pub fn tessera() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_tessera"));
    cmd.env_remove("TESSERA_STORE").env("NO_COLOR", "1");
    cmd
}

/// The repository root, for shipped files such as examples/licence.toml.
pub fn repo(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(rel)
}

/// A scratch directory; commands run inside it.
pub struct Dir {
    tmp: tempfile::TempDir,
}

impl Dir {
    /// A new empty directory.
    pub fn new() -> Self {
        Dir {
            tmp: tempfile::tempdir().expect("temp dir"),
        }
    }

    /// A path inside the directory.
    pub fn path(&self, rel: &str) -> PathBuf {
        self.tmp.path().join(rel)
    }

    /// `tessera ARGS…` run inside the directory.
    pub fn cmd(&self, args: &[&str]) -> Command {
        let mut cmd = tessera();
        cmd.current_dir(self.tmp.path()).args(args);
        cmd
    }

    /// Writes a file.
    pub fn write(&self, rel: &str, contents: impl AsRef<[u8]>) {
        std::fs::write(self.path(rel), contents).expect("write");
    }

    /// Reads a file as text.
    pub fn read(&self, rel: &str) -> String {
        std::fs::read_to_string(self.path(rel)).expect("read")
    }

    /// Makes a key pair PREFIX.key / PREFIX.pub.
    pub fn keygen(&self, prefix: &str) {
        self.cmd(&["vendor", "keygen", "--out", prefix])
            .assert()
            .success();
    }

    /// Writes `example.toml`: the shipped example spec with its issue time
    /// fixed (2026-01-05), so that checks at chosen dates do not depend on today.
    pub fn example_spec(&self) -> &'static str {
        let spec = std::fs::read_to_string(repo("examples/licence.toml")).expect("example spec");
        let fixed = spec.replace("# issued_at = ", "issued_at = ");
        assert_ne!(
            fixed, spec,
            "the example spec has a commented issued_at line"
        );
        self.write("example.toml", fixed);
        "example.toml"
    }

    /// Issues the shipped example licence with `key` into `out`.
    pub fn issue_example(&self, key: &str, out: &str) {
        let spec = self.example_spec();
        self.cmd(&["vendor", "issue", "--key", key, spec, "--out", out])
            .assert()
            .success();
    }
}

/// Standard output of a finished command, as text.
pub fn stdout(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Standard error of a finished command, as text.
pub fn stderr(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}
