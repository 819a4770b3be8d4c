//! Roles, their two ladders, and the permission matrix (seeds 000, 002, 004).
//!
//! Each ladder's levels inherit every permission of the levels below them;
//! Owner/manager tops both ladders. Only Owner/manager and Financial office
//! staff see and change licences; only Owner/manager assigns licences and roles.

use serde::{Deserialize, Serialize};

/// A role level.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Role {
    /// Jobs: sees and completes the jobs assigned; cannot edit their own diary.
    Engineer,
    /// Jobs: an engineer who manages their own diary.
    EngineerWithDiary,
    /// Jobs: an engineer with diary who creates invoices.
    EngineerWithInvoice,
    /// Jobs: edits everyone's diary and creates invoices.
    SeniorEngineer,
    /// Jobs: creates and manages jobs, invoices, customers; limited reporting.
    OfficeStaff,
    /// Jobs: office staff with extensive reporting; sees and changes licences.
    FinancialOfficeStaff,
    /// Sales: accepts, rejects and sends proposals; limited areas.
    SalesSupport,
    /// Sales: creates opportunities, add-ons, finance and proposals.
    SalesPerson,
    /// Sales: creates e-mail and SMS templates, sees proposal finances.
    SeniorSalesPerson,
    /// Sales: sequences, option and survey templates, branding.
    SalesManager,
    /// Sales: full access to the Sales CRM; sets up templates.
    SalesDirector,
    /// Both ladders: full access; assigns roles and licences.
    OwnerManager,
    /// The licensed product's service account: no seat, no ladder; it may
    /// check anyone and record usage, nothing else.
    LicensedProduct,
}

/// Which ladder a role belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Ladder {
    /// Job management (Jobs product area).
    Jobs,
    /// Sales CRM (Sales product area).
    Sales,
    /// Owner/manager: the top of both.
    Both,
    /// The licensed product's service account: on no ladder.
    Service,
}

impl Role {
    /// Every role, Jobs ladder bottom-up, then Sales bottom-up, then Owner/manager.
    pub const ALL: [Role; 13] = [
        Role::Engineer,
        Role::EngineerWithDiary,
        Role::EngineerWithInvoice,
        Role::SeniorEngineer,
        Role::OfficeStaff,
        Role::FinancialOfficeStaff,
        Role::SalesSupport,
        Role::SalesPerson,
        Role::SeniorSalesPerson,
        Role::SalesManager,
        Role::SalesDirector,
        Role::OwnerManager,
        Role::LicensedProduct,
    ];

    /// The name administrators see.
    pub fn name(self) -> &'static str {
        match self {
            Role::Engineer => "Engineer",
            Role::EngineerWithDiary => "Engineer with diary",
            Role::EngineerWithInvoice => "Engineer with invoice",
            Role::SeniorEngineer => "Senior engineer",
            Role::OfficeStaff => "Office staff",
            Role::FinancialOfficeStaff => "Financial office staff",
            Role::SalesSupport => "Sales support",
            Role::SalesPerson => "Sales person",
            Role::SeniorSalesPerson => "Senior sales person",
            Role::SalesManager => "Sales manager",
            Role::SalesDirector => "Sales director",
            Role::OwnerManager => "Owner/manager",
            Role::LicensedProduct => "Licensed product",
        }
    }

    /// Parses a role as an administrator writes it: any case, spaces, hyphens or
    /// underscores (`engineer-with-diary`, `'Owner/manager'`, `owner`).
    pub fn parse(s: &str) -> Option<Role> {
        let norm = |x: &str| -> String {
            x.chars()
                .filter(|c| c.is_ascii_alphanumeric())
                .map(|c| c.to_ascii_lowercase())
                .collect()
        };
        let wanted = norm(s);
        if wanted.is_empty() {
            return None;
        }
        if let Some(r) = Role::ALL.into_iter().find(|r| norm(r.name()) == wanted) {
            return Some(r);
        }
        match wanted.as_str() {
            "owner" | "manager" | "ownermanager" | "admin" => Some(Role::OwnerManager),
            "financialofficestaff" | "finance" | "financial" => Some(Role::FinancialOfficeStaff),
            "product" | "licensedproduct" => Some(Role::LicensedProduct),
            _ => None,
        }
    }

    /// The role's ladder.
    pub fn ladder(self) -> Ladder {
        match self {
            Role::Engineer
            | Role::EngineerWithDiary
            | Role::EngineerWithInvoice
            | Role::SeniorEngineer
            | Role::OfficeStaff
            | Role::FinancialOfficeStaff => Ladder::Jobs,
            Role::SalesSupport
            | Role::SalesPerson
            | Role::SeniorSalesPerson
            | Role::SalesManager
            | Role::SalesDirector => Ladder::Sales,
            Role::OwnerManager => Ladder::Both,
            Role::LicensedProduct => Ladder::Service,
        }
    }

    /// The level directly below on the same ladder, whose permissions this one inherits.
    pub fn below(self) -> Option<Role> {
        match self {
            Role::Engineer | Role::SalesSupport => None,
            Role::EngineerWithDiary => Some(Role::Engineer),
            Role::EngineerWithInvoice => Some(Role::EngineerWithDiary),
            Role::SeniorEngineer => Some(Role::EngineerWithInvoice),
            Role::OfficeStaff => Some(Role::SeniorEngineer),
            Role::FinancialOfficeStaff => Some(Role::OfficeStaff),
            Role::SalesPerson => Some(Role::SalesSupport),
            Role::SeniorSalesPerson => Some(Role::SalesPerson),
            Role::SalesManager => Some(Role::SeniorSalesPerson),
            Role::SalesDirector => Some(Role::SalesManager),
            // Owner/manager tops both ladders; its grants are "everything" below.
            Role::OwnerManager | Role::LicensedProduct => None,
        }
    }

    /// Whether this role sees and changes licences (seed 000).
    pub fn manages_licences(self) -> bool {
        matches!(self, Role::OwnerManager | Role::FinancialOfficeStaff)
    }

    /// Whether this role assigns licences and roles to users (seed 002).
    pub fn manages_users(self) -> bool {
        self == Role::OwnerManager
    }

    /// Whether a user of this role may hold a seat in the product area `area`:
    /// Jobs roles hold Jobs seats, Sales roles Sales seats; other areas (add-on
    /// vendors' products) and Owner/manager take any.
    pub fn fits_area(self, area: &str) -> bool {
        match self.ladder() {
            Ladder::Both => true,
            Ladder::Jobs => !area.eq_ignore_ascii_case("sales"),
            Ladder::Sales => !area.eq_ignore_ascii_case("jobs"),
            Ladder::Service => false,
        }
    }

    /// Every permission this role holds, its own and inherited.
    pub fn permissions(self) -> Vec<Permission> {
        if self == Role::OwnerManager {
            return FEATURES
                .iter()
                .map(|f| Permission {
                    feature: f.name,
                    access: Access::ALL,
                })
                .collect();
        }
        let mut out: Vec<Permission> = Vec::new();
        let mut level = Some(self);
        while let Some(r) = level {
            for (feature, access) in own_grants(r) {
                match out.iter_mut().find(|p| p.feature == *feature) {
                    Some(p) => p.access = p.access.union(*access),
                    None => out.push(Permission {
                        feature,
                        access: *access,
                    }),
                }
            }
            level = r.below();
        }
        out.sort_by_key(|p| FEATURES.iter().position(|f| f.name == p.feature));
        out
    }

    /// The access this role has to one feature area.
    pub fn access(self, feature: &str) -> Access {
        self.permissions()
            .into_iter()
            .find(|p| p.feature == feature)
            .map(|p| p.access)
            .unwrap_or_default()
    }
}

impl std::fmt::Display for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.pad(self.name())
    }
}

/// Read, write, update and delete rights on a feature area (seed 002's spreadsheet).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Access {
    /// May read.
    pub read: bool,
    /// May create.
    pub write: bool,
    /// May change.
    pub update: bool,
    /// May delete.
    pub delete: bool,
}

impl Access {
    /// No access.
    pub const NONE: Access = Access {
        read: false,
        write: false,
        update: false,
        delete: false,
    };
    /// Read only.
    pub const R: Access = Access {
        read: true,
        ..Access::NONE
    };
    /// Read and update.
    pub const RU: Access = Access {
        read: true,
        update: true,
        ..Access::NONE
    };
    /// Read, write and update.
    pub const RWU: Access = Access {
        read: true,
        write: true,
        update: true,
        delete: false,
    };
    /// Everything.
    pub const ALL: Access = Access {
        read: true,
        write: true,
        update: true,
        delete: true,
    };

    /// Both sets of rights.
    pub fn union(self, other: Access) -> Access {
        Access {
            read: self.read || other.read,
            write: self.write || other.write,
            update: self.update || other.update,
            delete: self.delete || other.delete,
        }
    }

    /// `RWUD` with `-` for each right missing.
    pub fn letters(self) -> String {
        [
            (self.read, 'R'),
            (self.write, 'W'),
            (self.update, 'U'),
            (self.delete, 'D'),
        ]
        .iter()
        .map(|(b, c)| if *b { *c } else { '-' })
        .collect()
    }
}

/// One row of a role's permissions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Permission {
    /// The feature area.
    pub feature: &'static str,
    /// The rights.
    pub access: Access,
}

/// A feature area of the permission matrix.
#[derive(Debug, Clone, Copy)]
pub struct Feature {
    /// Its name.
    pub name: &'static str,
    /// The product area it belongs to.
    pub area: &'static str,
}

/// The feature areas, in the order the matrix prints them.
pub const FEATURES: &[Feature] = &[
    Feature {
        name: "Assigned jobs",
        area: "Jobs",
    },
    Feature {
        name: "Own diary",
        area: "Jobs",
    },
    Feature {
        name: "Everyone's diary",
        area: "Jobs",
    },
    Feature {
        name: "Invoices",
        area: "Jobs",
    },
    Feature {
        name: "Jobs",
        area: "Jobs",
    },
    Feature {
        name: "Customers",
        area: "Jobs",
    },
    Feature {
        name: "Reporting",
        area: "Jobs",
    },
    Feature {
        name: "Financial reporting",
        area: "Jobs",
    },
    Feature {
        name: "Attached files",
        area: "Sales",
    },
    Feature {
        name: "Customer database",
        area: "Sales",
    },
    Feature {
        name: "Diary",
        area: "Sales",
    },
    Feature {
        name: "Opportunities",
        area: "Sales",
    },
    Feature {
        name: "Proposals",
        area: "Sales",
    },
    Feature {
        name: "Opportunities dashboard",
        area: "Sales",
    },
    Feature {
        name: "Communications",
        area: "Sales",
    },
    Feature {
        name: "E-mail and SMS templates",
        area: "Sales",
    },
    Feature {
        name: "Proposal finances",
        area: "Sales",
    },
    Feature {
        name: "Sequences and templates",
        area: "Sales",
    },
    Feature {
        name: "Proposal branding",
        area: "Sales",
    },
    Feature {
        name: "Sales CRM setup",
        area: "Sales",
    },
    Feature {
        name: "Licences",
        area: "Administration",
    },
    Feature {
        name: "Users and roles",
        area: "Administration",
    },
    Feature {
        name: "Settings",
        area: "Administration",
    },
];

impl Ladder {
    /// The ladders as seed 002's spreadsheet splits them: Jobs, Sales, and
    /// the licensed product's service account on its own.
    pub const ALL: [Ladder; 3] = [Ladder::Jobs, Ladder::Sales, Ladder::Service];

    /// Its name: "Jobs", "Sales", "Both", "Service".
    pub fn name(self) -> &'static str {
        match self {
            Ladder::Jobs => "Jobs",
            Ladder::Sales => "Sales",
            Ladder::Both => "Both",
            Ladder::Service => "Service",
        }
    }

    /// Its levels bottom-up; Owner/manager tops Jobs and Sales.
    pub fn roles(self) -> Vec<Role> {
        let mut roles: Vec<Role> = Role::ALL
            .into_iter()
            .filter(|r| r.ladder() == self)
            .collect();
        if matches!(self, Ladder::Jobs | Ladder::Sales) {
            roles.push(Role::OwnerManager);
        }
        roles
    }

    /// Whether the feature `area` belongs on this ladder's sheet: its own
    /// product area and the administration every ladder meets.
    fn shows(self, area: &str) -> bool {
        match self {
            Ladder::Jobs | Ladder::Sales => area == self.name() || area == "Administration",
            Ladder::Both | Ladder::Service => true,
        }
    }
}

/// One ladder's permission matrix (seed 002's downloadable spreadsheet): a
/// row per feature area, a column per level, each level's rights inherited
/// from the levels below it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Matrix {
    /// The ladder.
    pub ladder: Ladder,
    /// Its levels bottom-up: the columns.
    pub roles: Vec<Role>,
    /// The rows.
    pub rows: Vec<MatrixRow>,
}

/// One feature area of a [`Matrix`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MatrixRow {
    /// The product area, e.g. "Jobs" or "Administration".
    pub area: &'static str,
    /// The feature area.
    pub feature: &'static str,
    /// The rights of each level, in the order of [`Matrix::roles`].
    pub access: Vec<Access>,
}

/// The permission matrix of one ladder, from the role definitions.
pub fn matrix(ladder: Ladder) -> Matrix {
    let roles = ladder.roles();
    let granted: Vec<Vec<Permission>> = roles.iter().map(|r| r.permissions()).collect();
    let rows = FEATURES
        .iter()
        .filter(|f| ladder.shows(f.area))
        .map(|f| MatrixRow {
            area: f.area,
            feature: f.name,
            access: granted
                .iter()
                .map(|ps| {
                    ps.iter()
                        .find(|p| p.feature == f.name)
                        .map(|p| p.access)
                        .unwrap_or_default()
                })
                .collect(),
        })
        .collect();
    Matrix {
        ladder,
        roles,
        rows,
    }
}

/// Every ladder's matrix, in the order of [`Ladder::ALL`].
pub fn matrices() -> Vec<Matrix> {
    Ladder::ALL.into_iter().map(matrix).collect()
}

/// One CSV field as RFC 4180 writes it: in double quotes, with each double
/// quote doubled, when it holds a comma, a double quote, CR or LF; as it is
/// otherwise.
pub fn csv_field(s: &str) -> std::borrow::Cow<'_, str> {
    if s.contains([',', '"', '\r', '\n']) {
        format!("\"{}\"", s.replace('"', "\"\"")).into()
    } else {
        s.into()
    }
}

/// The header of [`csv`].
pub const CSV_HEADER: [&str; 9] = [
    "ladder", "level", "role", "area", "feature", "read", "write", "update", "delete",
];

/// Every ladder's matrix as CSV (RFC 4180: CRLF line ends, fields quoted
/// where they must be): the header, then a record per ladder, level and
/// feature, rights as `yes` or `no`. Owner/manager appears on both ladders.
pub fn csv() -> String {
    let mut out = String::new();
    let mut record = |fields: &[&str]| {
        let line: Vec<_> = fields.iter().map(|f| csv_field(f)).collect();
        out.push_str(&line.join(","));
        out.push_str("\r\n");
    };
    record(&CSV_HEADER);
    let yn = |b: bool| if b { "yes" } else { "no" };
    for m in matrices() {
        for (i, role) in m.roles.iter().enumerate() {
            let level = (i + 1).to_string();
            for row in &m.rows {
                let a = row.access.get(i).copied().unwrap_or_default();
                record(&[
                    m.ladder.name(),
                    &level,
                    role.name(),
                    row.area,
                    row.feature,
                    yn(a.read),
                    yn(a.write),
                    yn(a.update),
                    yn(a.delete),
                ]);
            }
        }
    }
    out
}

/// What each level adds to the level below it.
fn own_grants(role: Role) -> &'static [(&'static str, Access)] {
    match role {
        Role::Engineer => &[("Assigned jobs", Access::RU), ("Own diary", Access::R)],
        Role::EngineerWithDiary => &[("Own diary", Access::ALL)],
        Role::EngineerWithInvoice => &[("Invoices", Access::RWU)],
        Role::SeniorEngineer => &[("Everyone's diary", Access::ALL)],
        Role::OfficeStaff => &[
            ("Jobs", Access::ALL),
            ("Invoices", Access::ALL),
            ("Customers", Access::ALL),
            ("Reporting", Access::R),
        ],
        Role::FinancialOfficeStaff => &[
            ("Reporting", Access::ALL),
            ("Financial reporting", Access::ALL),
            ("Licences", Access::RWU),
        ],
        // Seed 002: Sales Support reaches attached files, the customer database,
        // the diary and opportunities, and accepts, rejects and sends proposals.
        Role::SalesSupport => &[
            ("Attached files", Access::RWU),
            ("Customer database", Access::RWU),
            ("Diary", Access::ALL),
            ("Opportunities", Access::R),
            ("Proposals", Access::RU),
        ],
        Role::SalesPerson => &[
            ("Opportunities", Access::ALL),
            ("Proposals", Access::RWU),
            ("Opportunities dashboard", Access::R),
            ("Communications", Access::RWU),
        ],
        Role::SeniorSalesPerson => &[
            ("E-mail and SMS templates", Access::RWU),
            ("Proposal finances", Access::R),
        ],
        Role::SalesManager => &[
            ("Sequences and templates", Access::ALL),
            ("Proposal branding", Access::ALL),
            ("E-mail and SMS templates", Access::ALL),
        ],
        Role::SalesDirector => &[
            ("Attached files", Access::ALL),
            ("Customer database", Access::ALL),
            ("Proposals", Access::ALL),
            ("Communications", Access::ALL),
            ("Proposal finances", Access::ALL),
            ("Sales CRM setup", Access::ALL),
            ("Opportunities dashboard", Access::ALL),
        ],
        Role::OwnerManager | Role::LicensedProduct => &[],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_fields_are_quoted_as_rfc_4180_says() {
        assert_eq!(csv_field("Owner/manager"), "Owner/manager");
        assert_eq!(csv_field("Everyone's diary"), "Everyone's diary");
        assert_eq!(csv_field("a,b"), "\"a,b\"");
        assert_eq!(csv_field(r#"say "hi""#), r#""say ""hi""""#);
        assert_eq!(csv_field("two\nlines"), "\"two\nlines\"");
        assert_eq!(csv_field("cr\r"), "\"cr\r\"");
    }

    #[test]
    fn each_ladder_matrix_inherits_upwards_and_is_the_csv() {
        let ms = matrices();
        assert_eq!(ms.len(), 3);
        for m in &ms[..2] {
            assert_eq!(m.roles.last(), Some(&Role::OwnerManager));
            for row in &m.rows {
                assert_eq!(row.access.len(), m.roles.len());
                for pair in row.access.windows(2) {
                    assert_eq!(pair[0].union(pair[1]), pair[1], "{} on {m:?}", row.feature);
                }
                // Owner/manager: everything.
                assert_eq!(row.access.last(), Some(&Access::ALL));
            }
        }
        assert_eq!(ms[0].roles.len(), 7);
        assert_eq!(ms[1].roles.len(), 6);
        assert_eq!(ms[2].roles, vec![Role::LicensedProduct]);
        assert!(ms[2].rows.iter().all(|r| r.access == vec![Access::NONE]));
        // Sales support reaches attached files, customers, diary, opportunities.
        let sales = &ms[1];
        assert!(sales.rows.iter().all(|r| r.area != "Jobs"));
        let csv = csv();
        assert!(csv.starts_with("ladder,level,role,area,feature,read,write,update,delete\r\n"));
        let records = csv.split("\r\n").filter(|l| !l.is_empty()).count();
        let cells: usize = ms.iter().map(|m| m.roles.len() * m.rows.len()).sum();
        assert_eq!(records, cells + 1);
        assert!(csv.contains("\r\nSales,1,Sales support,Sales,Attached files,yes,"));
    }

    #[test]
    fn roles_parse_as_administrators_write_them() {
        assert_eq!(Role::parse("engineer"), Some(Role::Engineer));
        assert_eq!(Role::parse("Owner/manager"), Some(Role::OwnerManager));
        assert_eq!(
            Role::parse("engineer-with-diary"),
            Some(Role::EngineerWithDiary)
        );
        assert_eq!(
            Role::parse("FINANCIAL OFFICE STAFF"),
            Some(Role::FinancialOfficeStaff)
        );
        assert_eq!(Role::parse("sales_support"), Some(Role::SalesSupport));
        assert_eq!(Role::parse("wizard"), None);
        assert_eq!(Role::parse(""), None);
    }

    #[test]
    fn levels_inherit_everything_below() {
        for role in Role::ALL {
            if let Some(below) = role.below() {
                for p in below.permissions() {
                    let mine = role.access(p.feature);
                    assert_eq!(
                        mine.union(p.access),
                        mine,
                        "{role} lacks {} of {below}",
                        p.feature
                    );
                }
            }
        }
        for p in Role::SalesDirector.permissions() {
            assert_eq!(
                Role::OwnerManager.access(p.feature).union(p.access),
                Access::ALL
            );
        }
    }

    #[test]
    fn sales_support_reaches_only_its_four_areas_and_proposals() {
        let areas: Vec<_> = Role::SalesSupport
            .permissions()
            .into_iter()
            .filter(|p| p.access.read)
            .map(|p| p.feature)
            .collect();
        assert_eq!(
            areas,
            [
                "Attached files",
                "Customer database",
                "Diary",
                "Opportunities",
                "Proposals"
            ]
        );
    }

    #[test]
    fn only_owner_and_finance_manage_licences_and_only_owner_manages_users() {
        let licences: Vec<_> = Role::ALL
            .into_iter()
            .filter(|r| r.manages_licences())
            .collect();
        assert_eq!(licences, [Role::FinancialOfficeStaff, Role::OwnerManager]);
        let users: Vec<_> = Role::ALL
            .into_iter()
            .filter(|r| r.manages_users())
            .collect();
        assert_eq!(users, [Role::OwnerManager]);
    }
}
