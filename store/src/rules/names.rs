//! Usernames: a portable set, unique and never reused, matched exactly.

/// The longest username, in bytes.
pub const MAX_USERNAME: usize = 32;

/// Whether `name` is a username a new user may take: 1 to 32 ASCII letters,
/// digits, `.`, `_` or `-`, not starting with `-` (it would read as an option).
pub fn valid_username(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= MAX_USERNAME
        && !name.starts_with('-')
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
}

/// The form two usernames are compared in for uniqueness: a new name equal to
/// an existing or deleted one but for case is refused, so that `Alice` can
/// never stand beside `alice`. Identity itself is exact (see
/// [`crate::rules::permit::decide`]).
pub fn fold(name: &str) -> String {
    name.to_ascii_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_portable_set() {
        for ok in [
            "alice",
            "a",
            "bob.smith",
            "x_y-z",
            "ROOT",
            "a1",
            &"a".repeat(32),
        ] {
            assert!(valid_username(ok), "{ok}");
        }
        for bad in [
            "",
            "-alice",
            "al ice",
            "alice@example.com",
            "\u{212a}elvin",
            "r\u{43e}\u{43e}t",
            "tab\t",
            &"a".repeat(33),
            "a/b",
        ] {
            assert!(!valid_username(bad), "{bad:?}");
        }
    }
}
