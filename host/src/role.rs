//! The three roles a component plays in a connection, each the WIT world it implements: what it
//! exports and which host capabilities it may import. A world's capabilities are linked into
//! its linker and no others (see [`crate::caps::linker`]).

use std::fmt;

use crate::caps::Capability;

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

    /// The host capabilities the world imports (`wit/worlds.wit`; a test keeps them equal).
    pub fn capabilities(self) -> &'static [Capability] {
        use Capability::*;
        match self {
            Role::Source => &[Secrets, Http, Queue, Audit, Log, State, Settings],
            Role::Mapper => &[Log],
            Role::Target => &[Secrets, Http, Audit, Log, State, Settings],
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `world <name> { import x; … export y; }` blocks of the WIT file, as (imports, exports).
    fn world(wit: &str, name: &str) -> (Vec<String>, Vec<String>) {
        let start = wit.find(&format!("world {name} {{")).unwrap_or_else(|| panic!("world {name} in worlds.wit"));
        let body = &wit[start..];
        let body = &body[..body.find('}').unwrap_or(body.len())];
        let items = |kw: &str| {
            body.lines()
                .filter_map(|l| l.trim().strip_prefix(kw))
                .map(|l| format!("ml-connector:plugin/{}", l.trim().trim_end_matches(';')))
                .collect::<Vec<_>>()
        };
        (items("import "), items("export "))
    }

    #[test]
    fn capabilities_are_the_worlds_imports() {
        let wit = include_str!("../../wit/worlds.wit");
        for role in Role::ALL {
            let (imports, exports) = world(wit, role.as_str());
            let mut declared: Vec<String> = role.capabilities().iter().map(|c| c.interface().to_string()).collect();
            let mut imports = imports;
            declared.sort();
            imports.sort();
            assert_eq!(declared, imports, "{role}");
            assert_eq!(exports, vec![role.export().to_string()], "{role}");
        }
    }
}
