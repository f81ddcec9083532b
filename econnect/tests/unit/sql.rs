use mlc_econnect::procs::{self, SqlType};
use mlc_econnect::sql::{self, error_numbers, statement};
use mlc_econnect::{Document, QueryName};

/// The wrapper as docs/econnect.md shows it, for `proc` and its `names` (in order).
fn doc_statement(proc: &str, names: &[&str]) -> String {
    let doc = super::doc::text();
    let start = doc.find("```sql\n").unwrap() + 7;
    let template = doc[start..][..doc[start..].find("```").unwrap()].trim();
    let list: String = names.iter().enumerate().map(|(i, n)| format!("@I_v{n} = @P{}, ", i + 1)).collect();
    let out = template.replace("<proc>", proc).replace("@I_v<NAME1> = @P1, @I_v<NAME2> = @P2, …, ", &list);
    assert!(!out.contains('<') && !out.contains('…'), "template changed: {template}");
    out
}

fn sample(ty: SqlType) -> &'static str {
    match ty {
        SqlType::Char(3) => "CUS",
        SqlType::Char(_) | SqlType::VarChar(_) => "X",
        SqlType::TinyInt | SqlType::SmallInt | SqlType::Int => "1",
        SqlType::Numeric(_) => "1.5",
        SqlType::DateTime => "2026-11-02",
    }
}

/// A document with one node of `proc` giving every element (or only the required ones).
fn one_node(proc: &procs::Proc, all: bool) -> Document {
    let ty = procs::TRANSACTION_TYPES
        .iter()
        .find(|t| t.slots.iter().any(|s| matches!(s, procs::Slot::Node { proc: p, .. } | procs::Slot::Items { proc: p, .. } if p.name == proc.name)))
        .unwrap();
    let mut xml = format!("<eConnect><{}>", ty.name);
    let body: String = proc
        .params
        .iter()
        .filter(|p| all || p.required)
        .map(|p| format!("<{0}>{1}</{0}>", p.name, sample(p.ty)))
        .collect();
    let node = format!("<{0}>{body}</{0}>", proc.name);
    // The required header of the type, when the node is a child.
    for slot in ty.slots {
        match slot {
            procs::Slot::Items { element, proc: p } if p.name == proc.name => {
                xml.push_str(&format!("<{element}>{node}</{element}>"))
            }
            procs::Slot::Node { proc: p, .. } if p.name == proc.name => xml.push_str(&node),
            procs::Slot::Node { proc: header, required: true } => {
                let body: String = header
                    .params
                    .iter()
                    .filter(|p| p.required)
                    .map(|p| format!("<{0}>{1}</{0}>", p.name, sample(p.ty)))
                    .collect();
                xml.push_str(&format!("<{0}>{body}</{0}>", header.name));
            }
            _ => {}
        }
    }
    xml.push_str(&format!("</{}></eConnect>", ty.name));
    Document::parse(&xml).unwrap()
}

#[test]
fn one_statement_per_procedure_exactly_as_the_doc_shows() {
    for proc in procs::ALL {
        for all in [true, false] {
            let doc = one_node(proc, all);
            let call = doc.calls.iter().find(|c| c.proc.name == proc.name).unwrap();
            let names: Vec<&str> = proc.params.iter().filter(|p| all || p.required).map(|p| p.name).collect();
            assert_eq!(statement(call), doc_statement(proc.name, &names), "{} all={all}", proc.name);
            assert_eq!(sql::params(call).len(), names.len());
        }
    }
}

#[test]
fn the_apply_statement_spelled_out() {
    let doc = one_node(&procs::APPLY, false);
    assert_eq!(
        statement(&doc.calls[0]),
        "DECLARE @rc int, @e int, @s varchar(255); EXEC @rc = dbo.taRMApply @I_vAPTODCNM = @P1, @I_vAPFRDCNM = @P2, \
         @I_vAPPTOAMT = @P3, @I_vAPFRDCTY = @P4, @I_vAPTODCTY = @P5, @O_iErrorState = @e OUTPUT, @oErrString = @s OUTPUT; \
         SELECT @rc AS rc, @e AS error_state, @s AS error_string"
    );
}

#[test]
fn parameters_travel_as_the_doc_says() {
    use tiberius::ColumnData;
    let doc = one_node(&procs::TRANSACTION, true);
    let call = doc.calls.iter().find(|c| c.proc.name == "taRMTransaction").unwrap();
    for ((param, _), v) in call.params.iter().zip(sql::params(call)) {
        let ok = match (param.ty, v.to_sql()) {
            (SqlType::Char(_) | SqlType::VarChar(_), ColumnData::String(Some(_))) => true,
            (SqlType::SmallInt, ColumnData::I16(Some(1))) => true,
            (SqlType::Numeric(s), ColumnData::Numeric(Some(n))) => {
                n.scale() == s && n.value() == 15 * 10i128.pow(u32::from(s) - 1)
            }
            (SqlType::DateTime, ColumnData::DateTime2(Some(_))) => true,
            _ => false,
        };
        assert!(ok, "{} as {:?}", param.name, v.to_sql());
    }
}

#[test]
fn batches_are_the_docs() {
    let doc = super::doc::text();
    for b in [sql::BEGIN, sql::COMMIT, sql::ROLLBACK] {
        assert!(doc.contains(&format!("`{b}`")), "{b}");
    }
    assert!(QueryName::ErrorText.sql().ends_with("WHERE ErrorCode = @P1"));
}

#[test]
fn error_strings_split_on_spaces_and_commas() {
    assert_eq!(error_numbers("33 44 55"), [33, 44, 55]);
    assert_eq!(error_numbers("33,44, 55 ,66"), [33, 44, 55, 66]);
    assert_eq!(error_numbers("  712  "), [712]);
    assert_eq!(error_numbers(""), Vec::<i32>::new());
    assert_eq!(error_numbers("7 x 9 -3 99999999999"), [7, 9, -3]);
}
