//! docs/econnect.md read as data: the procedure table and the read-query table, so code and doc
//! cannot drift.

use mlc_econnect::ParamKind;
use mlc_econnect::procs::{self, SqlType};

pub fn text() -> &'static str {
    include_str!("../../../docs/econnect.md")
}

/// The `| a | b | c |` rows of the table under `## heading` (header and separator skipped).
fn table(heading: &str) -> Vec<Vec<String>> {
    let doc = text();
    let start = doc.find(&format!("## {heading}")).unwrap_or_else(|| panic!("section {heading}"));
    let section = &doc[start..];
    let section = &section[..section[3..].find("\n## ").map_or(section.len(), |i| i + 3)];
    section
        .lines()
        .filter(|l| l.starts_with('|'))
        .skip(2)
        .map(|l| l.trim().trim_matches('|').split(" | ").map(|c| c.trim().to_string()).collect())
        .collect()
}

/// Split on ", " outside parentheses.
fn split_top(cell: &str) -> Vec<String> {
    let (mut out, mut cur, mut depth) = (Vec::new(), String::new(), 0i32);
    let chars: Vec<char> = cell.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            _ => {}
        }
        if c == ',' && depth == 0 && chars.get(i + 1) == Some(&' ') {
            out.push(std::mem::take(&mut cur));
            i += 2;
            continue;
        }
        cur.push(c);
        i += 1;
    }
    out.push(cur);
    out
}

fn sql_type(t: &str) -> SqlType {
    let n = |s: &str| s.trim_end_matches(')').parse::<u16>().unwrap();
    match t {
        "tinyint" => SqlType::TinyInt,
        "smallint" => SqlType::SmallInt,
        "int" => SqlType::Int,
        "datetime" => SqlType::DateTime,
        "numeric(19,5)" => SqlType::Numeric(5),
        "numeric(19,7)" => SqlType::Numeric(7),
        t if t.starts_with("char(") => SqlType::Char(n(&t[5..])),
        t if t.starts_with("varchar(") => SqlType::VarChar(n(&t[8..])),
        other => panic!("type {other:?} in docs/econnect.md"),
    }
}

/// (element, type, required).
pub type DocParam = (String, SqlType, bool);

/// (procedure, params) from the doc's procedure table.
pub fn procedures() -> Vec<(String, Vec<DocParam>)> {
    table("Procedures and their parameters")
        .into_iter()
        .map(|row| {
            let mut params = Vec::new();
            let mut pending: Vec<(String, bool)> = Vec::new();
            for item in split_top(&row[1]) {
                // Drop annotations: "(…)" after the type, "`CUS`".
                let item = match item.find(" (") {
                    Some(i) => item[..i].to_string(),
                    None => item,
                };
                let required = item.starts_with("**");
                let item = item.replace("**", "");
                let mut words = item.split_whitespace();
                let name = words.next().unwrap().to_string();
                match words.next() {
                    None => pending.push((name, required)),
                    Some(t) => {
                        let ty = sql_type(t);
                        for (n, r) in pending.drain(..) {
                            params.push((n, ty, r));
                        }
                        params.push((name, ty, required));
                    }
                }
            }
            assert!(pending.is_empty(), "{}: untyped {pending:?}", row[0]);
            (row[0].clone(), params)
        })
        .collect()
}

/// (name, sql, params) from the doc's read-query table.
pub fn queries() -> Vec<(String, String, Vec<ParamKind>)> {
    table("Read queries")
        .into_iter()
        .map(|row| {
            let sql = row[1].split('`').nth(1).unwrap().to_string();
            let mut kinds = Vec::new();
            let mut pending = 0;
            if row[2] != "—" {
                for item in row[2].split(", ") {
                    let kind = match item.split_whitespace().last().unwrap() {
                        "nvarchar" => Some(ParamKind::Text),
                        "int" => Some(ParamKind::Int),
                        "date" => Some(ParamKind::Date),
                        _ => None,
                    };
                    match kind {
                        Some(k) => {
                            kinds.extend(std::iter::repeat_n(k, pending + 1));
                            pending = 0;
                        }
                        None => pending += 1,
                    }
                }
            }
            assert_eq!(pending, 0, "{}: untyped params", row[0]);
            (row[0].clone(), sql, kinds)
        })
        .collect()
}

#[test]
fn the_procedure_catalog_is_the_docs_table() {
    let doc = procedures();
    assert_eq!(doc.len(), procs::ALL.len());
    for (name, params) in doc {
        let p = procs::proc(&name).unwrap_or_else(|| panic!("{name} is in the doc, not in the catalog"));
        let code: Vec<DocParam> = p.params.iter().map(|p| (p.name.to_string(), p.ty, p.required)).collect();
        assert_eq!(code, params, "{name}");
    }
}

#[test]
fn the_queries_are_the_docs_table() {
    use mlc_econnect::QueryName;
    let doc = queries();
    assert_eq!(doc.len(), 25);
    assert_eq!(QueryName::ALL.len(), doc.len());
    for (name, sql, kinds) in doc {
        let q = QueryName::from_name(&name).unwrap_or_else(|| panic!("query {name} is not in the code"));
        assert_eq!(q.sql(), sql, "{name}");
        assert_eq!(q.params(), kinds.as_slice(), "{name}");
        // Columns: the SELECT list, table prefixes dropped.
        let list = sql.strip_prefix("SELECT ").unwrap();
        let list = list.strip_prefix("TOP 1 ").unwrap_or(list);
        let list = &list[..list.find(" FROM ").unwrap()];
        let cols: Vec<&str> = list.split(", ").map(|c| c.rsplit('.').next().unwrap()).collect();
        assert_eq!(q.columns(), cols.as_slice(), "{name}");
        // One line, single spaces.
        assert!(!q.sql().contains("  ") && !q.sql().contains('\n'), "{name}");
        // Every @Pn the text uses has a parameter, and every parameter is used.
        for i in 1..=q.params().len() {
            assert!(q.sql().contains(&format!("@P{i}")), "{name} @P{i}");
        }
        assert!(!q.sql().contains(&format!("@P{}", q.params().len() + 1)), "{name}");
    }
}

#[test]
fn the_wit_enum_names_the_same_queries() {
    let wit = include_str!("../../../wit/host.wit");
    let start = wit.find("enum query-name {").unwrap();
    let body = &wit[start..];
    let body = &body[body.find('{').unwrap() + 1..body.find('}').unwrap()];
    let names: Vec<&str> = body.split(',').map(str::trim).filter(|s| !s.is_empty()).collect();
    let code: Vec<&str> = mlc_econnect::QueryName::ALL.iter().map(|q| q.name()).collect();
    assert_eq!(code, names);
}
