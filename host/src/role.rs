//! The three roles a component plays in a connection, each the WIT world it implements and the
//! interface it exports. Which host capabilities each world imports is the capabilities' own
//! business ([`crate::caps::imports`]).

use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Role {
    /// Reads the billing system: webhooks in, records by id, pages for backfill.
    Source,
    /// Pure: a canonical record + settings → ledger documents.
    Mapper,
    /// Writes the ledger (GP): customers, documents, look-ups, fiscal periods.
    Target,
}

impl Role {
    pub const ALL: [Role; 3] = [Role::Source, Role::Mapper, Role::Target];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Source => "source",
            Role::Mapper => "mapper",
            Role::Target => "target",
        }
    }

    /// The interface the world exports, as a component names it (without the version).
    pub fn export(self) -> &'static str {
        match self {
            Role::Source => "ml-connector:plugin/source-api",
            Role::Mapper => "ml-connector:plugin/mapper-api",
            Role::Target => "ml-connector:plugin/target-api",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
