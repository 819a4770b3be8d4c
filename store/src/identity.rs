//! Who is running this process: the login user, from the kernel's uid.
//!
//! Read from `/proc/self` and `/etc/passwd` rather than `$USER`, which any
//! shell can set. In direct mode file permissions are the real boundary, but
//! the operator named in the action log should still be the real login.

use std::os::unix::fs::MetadataExt;

/// The uid of this process.
pub fn current_uid() -> Option<u32> {
    std::fs::metadata("/proc/self").ok().map(|m| m.uid())
}

/// The login name of a uid, from `/etc/passwd`.
pub fn name_of_uid(uid: u32) -> Option<String> {
    lookup_uid(uid).ok().flatten()
}

/// The login name of a uid, from `/etc/passwd`: `Ok(None)` when no entry has
/// that uid, an error when the file could not be read (out of descriptors,
/// say), so that a caller can tell "unknown" from "could not look".
pub fn lookup_uid(uid: u32) -> std::io::Result<Option<String>> {
    let passwd = std::fs::read_to_string("/etc/passwd")?;
    Ok(passwd.lines().find_map(|line| {
        let mut f = line.split(':');
        let name = f.next()?;
        let _pw = f.next()?;
        let id: u32 = f.next()?.parse().ok()?;
        (id == uid).then(|| name.to_string())
    }))
}

/// The first group of `/etc/group` (name, gid) that `pick` takes.
fn find_group<T>(pick: impl Fn(&str, u32) -> Option<T>) -> Option<T> {
    let text = std::fs::read_to_string("/etc/group").ok()?;
    text.lines().find_map(|line| {
        let mut f = line.split(':');
        let name = f.next()?;
        let _pw = f.next()?;
        let gid = f.next()?.parse().ok()?;
        pick(name, gid)
    })
}

/// The gid of a group name, from `/etc/group`.
pub fn gid_of_group(group: &str) -> Option<u32> {
    find_group(|name, gid| (name == group).then_some(gid))
}

/// The name of group `gid`, from `/etc/group`.
pub fn name_of_gid(gid: u32) -> Option<String> {
    find_group(|name, id| (id == gid).then(|| name.to_string()))
}

/// The login user of this process: its uid's name, else `$USER`, else "uid N".
pub fn login_name() -> String {
    match current_uid() {
        Some(uid) => name_of_uid(uid)
            .or_else(|| std::env::var("USER").ok())
            .unwrap_or_else(|| format!("uid{uid}")),
        None => std::env::var("USER").unwrap_or_else(|_| "unknown".into()),
    }
}
