//! Fixed text the console shows, in one place (key hints come from the key
//! bindings, [`super::keys`]).

/// The product name on the title line.
pub const PRODUCT: &str = "Tessera";
/// The DEMO badge.
pub const DEMO_BADGE: &str = " DEMO ";
/// The tab titles.
pub const TABS: [&str; 3] = ["1 Licences", "2 Status", "3 Users"];
/// Shown under the title on a demo store.
pub const DEMO_HINT: &str = "Demo store: to start a real one, run  tessera init --licence FILE";
/// A terminal smaller than the console needs.
pub const TOO_SMALL: &str =
    "The terminal is too small for the console: it needs 60 columns and 20 lines.";
/// Shown while the store's owner cannot be reached.
pub const DISCONNECTED: &str = "disconnected — reconnecting";
/// Shown instead of licence data to operators without the role.
pub const NO_LICENCE_ROLE: &str = "Only Owner/manager and Financial office staff see licences.";
/// The spinner's frames (Unicode, then ASCII).
pub const SPINNER: [&str; 8] = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧"];
/// The spinner's frames on a terminal without Unicode.
pub const SPINNER_ASCII: [&str; 4] = ["|", "/", "-", "\\"];
