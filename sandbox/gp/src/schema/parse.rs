//! Reading the WSDL's `<wsdl:types>` (XML Schema) into the [`Schema`] model: complex types with
//! their base and members, simple types (enumerations, restrictions) and global elements.

use std::sync::Arc;

use anyhow::{Context as _, bail};

use super::{Builtin, ComplexType, Field, FieldType, Schema, SimpleType, TypeDef};
use crate::xmldom::{self, Element, ExpandedName, NS_XS};

impl Schema {
    pub fn parse(text: &str) -> anyhow::Result<Schema> {
        let root = xmldom::parse(text)?;
        let mut schema = Schema::default();
        let types = root.children.iter().find(|c| c.name.local == "types").context("WSDL has no <wsdl:types>")?;
        for sch in types.children.iter().filter(|c| c.is(NS_XS, "schema")) {
            let tns = sch.attr_value("targetNamespace").unwrap_or_default().to_string();
            for item in &sch.children {
                let Some(name) = item.attr_value("name") else {
                    continue;
                };
                let qname = ExpandedName::new(&tns, name);
                match item.name.local.as_str() {
                    "complexType" => {
                        let mut ct = read_complex(item, &tns)?;
                        ct.name = Some(qname.clone());
                        schema.add_type(qname, TypeDef::Complex(Arc::new(ct)));
                    }
                    "simpleType" => schema.add_type(qname, TypeDef::Simple(read_simple(item))),
                    "element" => {
                        let field = read_field(item, &tns)?;
                        schema.elements.insert(qname, field);
                    }
                    _ => {}
                }
            }
        }
        if schema.types.is_empty() {
            bail!("WSDL defines no schema types");
        }
        Ok(schema)
    }
}

fn parse_occurs(v: Option<&str>, default: u32) -> (u32, bool) {
    match v {
        Some("unbounded") => (default, true),
        Some(n) => (n.parse().unwrap_or(default), false),
        None => (default, false),
    }
}

fn qname_attr(e: &Element, local: &str) -> Option<ExpandedName> {
    e.attr(None, local).and_then(|a| a.qname_value.clone())
}

fn read_field(e: &Element, tns: &str) -> anyhow::Result<Field> {
    let name = e.attr_value("name").context("xs:element without a name")?.to_string();
    let (min, _) = parse_occurs(e.attr_value("minOccurs"), 1);
    let (_, unbounded) = parse_occurs(e.attr_value("maxOccurs"), 1);
    let nillable = e.attr_value("nillable") == Some("true");
    let ty = match qname_attr(e, "type") {
        Some(t) if t.ns.as_deref() == Some(NS_XS) => FieldType::Builtin(Builtin::from_local(&t.local)),
        Some(t) => FieldType::Named(t),
        None => match e.children.iter().find(|c| c.is(NS_XS, "complexType")) {
            Some(inline) => FieldType::Anonymous(Arc::new(read_complex(inline, tns)?)),
            None => FieldType::Builtin(Builtin::Other),
        },
    };
    Ok(Field { name, ns: tns.to_string(), ty, min, unbounded, nillable })
}

/// Reads the particles of a sequence. `xs:choice` members are flattened and made optional:
/// the contract's choices (MoneyPercentChoice…) are "one of", which order checking tolerates.
fn read_particles(seq: &Element, tns: &str, ct: &mut ComplexType) -> anyhow::Result<()> {
    for p in &seq.children {
        match p.name.local.as_str() {
            "element" => ct.own_fields.push(read_field(p, tns)?),
            "choice" | "sequence" => {
                let before = ct.own_fields.len();
                read_particles(p, tns, ct)?;
                if p.name.local == "choice" {
                    for f in &mut ct.own_fields[before..] {
                        f.min = 0;
                    }
                }
            }
            "any" => ct.any = true,
            _ => {}
        }
    }
    Ok(())
}

fn read_complex(e: &Element, tns: &str) -> anyhow::Result<ComplexType> {
    let mut ct = ComplexType { is_abstract: e.attr_value("abstract") == Some("true"), ..Default::default() };
    let mut body = e;
    if let Some(content) = e.children.iter().find(|c| c.is(NS_XS, "complexContent"))
        && let Some(ext) = content.children.iter().find(|c| c.is(NS_XS, "extension"))
    {
        ct.base = qname_attr(ext, "base");
        body = ext;
    }
    for c in &body.children {
        match c.name.local.as_str() {
            "sequence" | "choice" => read_particles(c, tns, &mut ct)?,
            "attribute" => ct.attributes.extend(c.attr_value("name").map(str::to_string)),
            _ => {}
        }
    }
    Ok(ct)
}

fn read_simple(e: &Element) -> SimpleType {
    let enumerations: Vec<String> = descendants(e)
        .filter(|d| d.is(NS_XS, "enumeration"))
        .filter_map(|d| d.attr_value("value").map(str::to_string))
        .collect();
    let is_list = descendants(e).any(|d| d.is(NS_XS, "list"));
    if !enumerations.is_empty() && !is_list {
        return SimpleType::Enumeration(enumerations);
    }
    let base = descendants(e)
        .find(|d| d.is(NS_XS, "restriction"))
        .and_then(|r| qname_attr(r, "base"))
        .filter(|b| b.ns.as_deref() == Some(NS_XS) && !is_list)
        .map_or(Builtin::String, |b| Builtin::from_local(&b.local));
    SimpleType::Restricted(base)
}

fn descendants(e: &Element) -> impl Iterator<Item = &Element> {
    let mut stack = vec![e];
    std::iter::from_fn(move || {
        let next = stack.pop()?;
        stack.extend(next.children.iter().rev());
        Some(next)
    })
}
