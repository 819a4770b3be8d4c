//! Every piece of fixed text the console shows, in one place.

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
    "The terminal is too small for the console: it needs 80 columns and 24 lines.";

/// Footer hints per tab.
pub const HINTS_LICENCES: &str =
    "Enter details  b buy  x remove  i import  e export  [ ] issuer  ? help  q quit";
/// Footer hints on the Status tab.
pub const HINTS_STATUS: &str = "Up/Down notifications  r refresh  ? help  q quit";
/// Footer hints on the Users tab.
pub const HINTS_USERS: &str =
    "/ search  f filter  n new  e edit  d/a (de)activate  m add-ons  ? help  q quit";
/// Footer hints in a form.
pub const HINTS_FORM: &str = "Tab next field  Enter confirm  Esc cancel";
/// Footer hints in a confirmation.
pub const HINTS_CONFIRM: &str = "y confirm  n or Esc cancel";
/// Footer hints on a details or help popup.
pub const HINTS_POPUP: &str = "Esc close";

/// The full help.
pub const HELP: &[(&str, &str)] = &[
    ("1 2 3, Tab", "switch tabs: Licences, Status, Users"),
    ("Up Down PgUp PgDn Home End", "move in lists"),
    ("?", "this help"),
    ("q, Ctrl-C", "quit"),
    ("", ""),
    ("Licences", ""),
    ("Enter", "details of the selected licence"),
    (
        "b",
        "buy seats of the selected licence, with the cost shown first",
    ),
    (
        "x",
        "remove monthly or daily seats (contracted: in the renewal window)",
    ),
    ("i", "import a licence file (Tab completes the path)"),
    ("e", "export the signed contracts to a zip"),
    ("[ ]", "previous / next issuer (third-party add-ons)"),
    ("", ""),
    ("Status", ""),
    (
        "Up Down",
        "select a system notification; its description shows below",
    ),
    ("r", "refresh now"),
    ("", ""),
    ("Users", ""),
    ("/", "search names, e-mails, roles, licences and add-ons"),
    ("f", "filter by licence type (repeat to cycle)"),
    ("n", "new user"),
    ("e", "edit the selected user's role, licence and term"),
    ("d / a", "deactivate / activate the selected user"),
    ("m", "add-on modules and who holds them"),
];

/// Shown instead of licence data to operators without the role.
pub const NO_LICENCE_ROLE: &str = "Only Owner/manager and Financial office staff see licences.";
