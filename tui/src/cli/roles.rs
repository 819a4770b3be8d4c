//! `tessera roles [--csv | --json]`: the permission matrix, like seed 002's spreadsheet.

use std::fmt::Write as _;
use std::process::ExitCode;

use store::roles::{FEATURES, Role};

use super::util::{self, Failure};

/// Arguments of `roles`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Print CSV (RFC 4180, CRLF line ends): one record per ladder, level and
    /// feature: ladder, level, role, area, feature, read, write, update, delete.
    #[arg(long, conflicts_with = "json")]
    csv: bool,
    /// Print each ladder's matrix as JSON: its roles bottom-up and, per
    /// feature, each role's rights.
    #[arg(long)]
    json: bool,
}

/// Prints every role's permissions, inherited ones included.
pub fn run(args: Args) -> Result<ExitCode, Failure> {
    let mut s = String::new();
    if args.csv {
        s = store::roles::csv();
    } else if args.json {
        s = serde_json::to_string_pretty(&store::roles::matrices())
            .map_err(|e| Failure::Refused(format!("the matrix as JSON: {e}")))?;
        s.push('\n');
    } else {
        let _ = writeln!(
            s,
            "Each level inherits every permission of the levels below it. R read, W write, U update, D delete.\n"
        );
        let _ = write!(s, "{:<26}", "FEATURE");
        for role in Role::ALL {
            let _ = write!(s, " {:>4}", abbreviation(role));
        }
        s.push('\n');
        for f in FEATURES {
            let _ = write!(s, "{:<26}", f.name);
            for role in Role::ALL {
                let _ = write!(s, " {:>4}", role.access(f.name).letters());
            }
            s.push('\n');
        }
        s.push('\n');
        for role in Role::ALL {
            let _ = writeln!(
                s,
                "{:>4}  {}{}{}",
                abbreviation(role),
                role.name(),
                if role.manages_licences() {
                    "; sees and changes licences"
                } else {
                    ""
                },
                if role.manages_users() {
                    "; assigns licences and roles"
                } else {
                    ""
                }
            );
        }
    }
    util::print(&s)?;
    Ok(ExitCode::SUCCESS)
}

fn abbreviation(role: Role) -> &'static str {
    match role {
        Role::Engineer => "ENG",
        Role::EngineerWithDiary => "ENGD",
        Role::EngineerWithInvoice => "ENGI",
        Role::SeniorEngineer => "SENG",
        Role::OfficeStaff => "OFF",
        Role::FinancialOfficeStaff => "FIN",
        Role::SalesSupport => "SSUP",
        Role::SalesPerson => "SP",
        Role::SeniorSalesPerson => "SSP",
        Role::SalesManager => "SMGR",
        Role::SalesDirector => "SDIR",
        Role::OwnerManager => "OWN",
        Role::LicensedProduct => "PROD",
    }
}
