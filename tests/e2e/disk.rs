//! A full disk: a store on a small tmpfs that is then filled up.
//!
//! What an administrator relies on: a change the disk cannot take is refused
//! and not half-kept (what the store answers afterwards is what the disk
//! holds); `check` and `status` go on answering, through the service and
//! directly; once space is freed, changes go through again without a restart.
//! Mounting needs root, which CI has (see `as_root`).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use store::ApiExt as _;
use store::{Code, NewUser};

use crate::serve::{Service, as_root};
use crate::util::{Dir, stderr, stdout};

/// A tmpfs mounted over a directory, unmounted when dropped.
pub(crate) struct Mount(PathBuf);

impl Mount {
    pub(crate) fn tmpfs(at: &Path, size: &str) -> Mount {
        let ok = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(at)
            .status()
            .expect("run mount")
            .success();
        assert!(ok, "mount a tmpfs on {}", at.display());
        Mount(at.to_path_buf())
    }
}

impl Drop for Mount {
    fn drop(&mut self) {
        // Lazily: a process that still has a file open there must not make
        // the test leave a mount behind.
        let _ = Command::new("umount").arg("-l").arg(&self.0).status();
    }
}

/// Fills the file system holding `path` with one file, to the last byte.
fn fill(path: &Path) {
    let mut f = std::fs::File::create(path).expect("create the filler");
    let chunk = vec![0u8; 1 << 16];
    loop {
        match f.write(&chunk) {
            Ok(0) => break,
            Ok(_) => {}
            Err(e) if e.raw_os_error() == Some(28) => break,
            Err(e) => panic!("filling the disk: {e}"),
        }
    }
    // The last partial page, byte by byte.
    while f.write(&[0]).is_ok_and(|n| n == 1) {}
}

fn engineer(name: &str) -> NewUser {
    NewUser {
        name: name.into(),
        role: "engineer".into(),
        licence: None,
        term: None,
        email: None,
    }
}

#[test]
fn a_full_disk_refuses_changes_keeps_answering_reads_and_recovers_when_space_returns() {
    if !as_root(
        "a_full_disk_refuses_changes_keeps_answering_reads_and_recovers_when_space_returns",
        "mounts a small tmpfs",
    ) {
        return;
    }
    let dir = Dir::new();
    let _mount = Mount::tmpfs(&dir.path(""), "24m");
    dir.st(&["demo", "--users", "40"]).assert().success();
    assert!(
        dir.path("st/space.reserve").exists(),
        "the store keeps a reserve"
    );
    let known = {
        let out = dir.st(&["users", "list", "--json"]).output().expect("list");
        let list: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
        list["users"]
            .as_array()
            .and_then(|a| a.first())
            .and_then(|u| u["name"].as_str())
            .expect("a user")
            .to_string()
    };

    // Through the service.
    let mut service = Service::start(&dir);
    let remote = service.remote();
    fill(&dir.path("filler"));
    let mut refused = None;
    for i in 0..5000 {
        let name = format!("full.{i}");
        match remote.add_user(engineer(&name)) {
            Ok(_) => {}
            Err(e) => {
                assert_eq!(e.code(), Code::DiskFull, "{e}");
                assert!(e.to_string().contains("free space"), "{e}");
                refused = Some(name);
                break;
            }
        }
    }
    let refused = refused.expect("the disk filled up before 5,000 users");
    // What the store answers is what it keeps: the refused user is not there.
    assert!(
        remote.user(&refused).expect("read a user").is_none(),
        "{refused} was refused but is in the store"
    );
    // Reads go on.
    assert!(remote.check(&known).is_ok());
    assert!(remote.status().is_ok());
    // Still full: still refused, and still nothing kept.
    let again = remote
        .add_user(engineer("full.again"))
        .expect_err("no room yet");
    assert_eq!(again.code(), Code::DiskFull, "{again}");
    // Space comes back: changes go through, without a restart.
    std::fs::remove_file(dir.path("filler")).expect("free the space");
    remote
        .add_user(engineer("after.space"))
        .expect("a change once there is room");
    assert!(remote.user("after.space").expect("read").is_some());
    let audit = remote.audit_verify().expect("audit");
    assert!(audit.ok(), "{:?}", audit.problems);
    drop(remote);
    assert!(
        service
            .signal_and_wait("TERM", Duration::from_secs(10))
            .success(),
        "{}",
        service.log_text()
    );
    drop(service);

    // Directly, with the disk full again: reads answer, changes are refused.
    fill(&dir.path("filler"));
    let check = dir.st(&["check", &known]).output().expect("check");
    assert_eq!(check.status.code(), Some(0), "{}", stderr(&check));
    let status = dir.st(&["status"]).output().expect("status");
    assert!(status.status.success(), "{}", stderr(&status));
    let add = dir
        .st(&["users", "add", "direct.full", "--role", "engineer"])
        .output()
        .expect("add");
    assert_eq!(add.status.code(), Some(1));
    assert!(
        stderr(&add).contains("is full") && stderr(&add).contains("free space"),
        "{}",
        stderr(&add)
    );
    std::fs::remove_file(dir.path("filler")).expect("free the space");
    dir.st(&["users", "add", "direct.after", "--role", "engineer"])
        .assert()
        .success();
    let list = stdout(&dir.st(&["users", "list", "--json"]).output().expect("list"));
    assert!(list.contains("direct.after") && list.contains("after.space"));
    assert!(!list.contains(&format!("\"{refused}\"")) && !list.contains("direct.full"));
    dir.st(&["audit", "verify"]).assert().success();
}
