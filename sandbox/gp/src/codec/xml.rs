//! SOAP XML: reading an element tree against the WSDL (names, namespaces, order, `xsi:type`,
//! `xsi:nil`) and writing one the way ASMX's XmlSerializer does (WSDL order, prefixes, nil or
//! .NET default for unset value-typed members).

use std::fmt::Write as _;

use super::{Violation, check_simple, join, required, violation};
use crate::node::Node;
use crate::schema::{Builtin, ComplexType, Field, NS_DYN, NS_GP, NS_WSDL_TYPES, Resolved, Schema};
use crate::xmldom::{Element, ExpandedName, escape};

pub struct XmlReader<'s> {
    pub schema: &'s Schema,
    pub strict: bool,
}

impl XmlReader<'_> {
    /// Reads `el` as a value of `field`'s type.
    pub fn read(&self, el: &Element, field: &Field, path: &str) -> Result<Node, Violation> {
        if el.is_nil() {
            return Ok(Node::Nil);
        }
        let declared = self
            .schema
            .resolve(&field.ty)
            .ok_or_else(|| violation(path, format!("type of {} is not in the WSDL", field.name)))?;
        let resolved = match (declared, el.xsi_type()) {
            (Resolved::Complex(decl), Some(xsi)) => self.resolve_xsi_type(&decl, xsi, path)?,
            (declared, _) => declared,
        };
        match resolved {
            Resolved::Complex(ct) => {
                if ct.is_abstract {
                    return Err(violation(
                        path,
                        "abstract type: say which one with xsi:type (e.g. xsi:type=\"CompanyKey\")",
                    ));
                }
                self.read_complex(el, &ct, path)
            }
            simple => {
                if let Some(child) = el.children.first() {
                    return Err(violation(
                        path,
                        format!("simple value expected, found element <{}>", child.name.local),
                    ));
                }
                check_simple(path, &el.text, &simple)?;
                Ok(Node::Text(el.text.trim().to_string()))
            }
        }
    }

    fn resolve_xsi_type(
        &self,
        declared: &ComplexType,
        xsi: &ExpandedName,
        path: &str,
    ) -> Result<Resolved<'_>, Violation> {
        let (name, def) = self
            .schema
            .find_type(xsi)
            .ok_or_else(|| violation(path, format!("xsi:type {} is not a type of the WSDL", xsi.local)))?;
        if let Some(decl_name) = &declared.name
            && !self.schema.derives_from(name, decl_name)
        {
            return Err(violation(path, format!("xsi:type {} does not derive from {}", name.local, decl_name.local)));
        }
        match def {
            crate::schema::TypeDef::Complex(c) => Ok(Resolved::Complex(c.clone())),
            crate::schema::TypeDef::Simple(_) => Err(violation(path, "xsi:type names a simple type")),
        }
    }

    fn read_complex(&self, el: &Element, ct: &ComplexType, path: &str) -> Result<Node, Violation> {
        if ct.any {
            return Ok(Node::Any(el.children.clone()));
        }
        if self.strict && !el.text.trim().is_empty() {
            return Err(violation(path, "text is not allowed here, only member elements"));
        }
        let fields = self.schema.fields(ct);
        let mut members = Vec::new();
        for name in &ct.attributes {
            if let Some(v) = el.attr_value(name) {
                members.push((format!("@{name}"), Node::Text(v.to_string())));
            }
        }
        let mut pos = 0;
        let mut seen_at_pos = false;
        for child in &el.children {
            let child_ns = child.name.ns.as_deref().unwrap_or("");
            // Members must come in declaration order: search forward from the current one.
            let found = fields[pos..].iter().position(|f| f.name == child.name.local && f.ns == child_ns);
            match found {
                Some(0) if seen_at_pos && !fields[pos].unbounded => {
                    if self.strict {
                        return Err(violation(&join(path, &child.name.local), "appears more than once"));
                    }
                    continue;
                }
                Some(offset) => {
                    if self.strict {
                        // A repeated (unbounded) member at `pos` skips nothing.
                        let skip_start = if seen_at_pos && offset > 0 { pos + 1 } else { pos };
                        if let Some(missing) = fields[skip_start..pos + offset].iter().find(|f| required(f)) {
                            let later = el.children.iter().any(|c| c.name.local == missing.name);
                            let why = if later {
                                format!("out of WSDL order: must come before {}", child.name.local)
                            } else {
                                "required member is missing".to_string()
                            };
                            return Err(violation(&join(path, &missing.name), why));
                        }
                    }
                    pos += offset;
                    seen_at_pos = true;
                    let field = &fields[pos];
                    let value = self.read(child, field, &join(path, &field.name))?;
                    members.push((field.name.clone(), value));
                }
                None if self.strict => {
                    return Err(self.explain_unexpected(child, &fields, pos, path));
                }
                None => {}
            }
        }
        if self.strict {
            let rest = if seen_at_pos { pos + 1 } else { pos };
            if let Some(missing) = fields.get(rest..).unwrap_or_default().iter().find(|f| required(f)) {
                return Err(violation(&join(path, &missing.name), "required member is missing"));
            }
        }
        Ok(Node::Tree(members))
    }

    fn explain_unexpected(&self, child: &Element, fields: &[Field], pos: usize, path: &str) -> Violation {
        let here = join(path, &child.name.local);
        let child_ns = child.name.ns.as_deref().unwrap_or("");
        if let Some(f) = fields.iter().find(|f| f.name == child.name.local) {
            if f.ns != child_ns {
                return violation(&here, format!("must be in namespace {} (found {:?})", f.ns, child_ns));
            }
            let expected: Vec<&str> = fields[pos..].iter().map(|f| f.name.as_str()).take(4).collect();
            return violation(&here, format!("out of WSDL order (members from here on: {expected:?}…)"));
        }
        let known: Vec<&str> = fields.iter().map(|f| f.name.as_str()).collect();
        violation(&here, format!("is not a member of this type; members are {known:?}"))
    }
}

/// Prefixes the SOAP writer declares on the envelope for the non-default namespaces.
pub const PREFIXES: &[(&str, &str)] =
    &[(NS_DYN, "d"), ("http://schemas.microsoft.com/dynamics/security/2006/01", "sec"), (NS_WSDL_TYPES, "w")];

fn qualified(ns: &str, name: &str) -> String {
    if ns == NS_GP {
        return name.to_string();
    }
    match PREFIXES.iter().find(|(uri, _)| *uri == ns) {
        Some((_, p)) => format!("{p}:{name}"),
        None => name.to_string(),
    }
}

/// The value .NET's XmlSerializer writes for a value-typed member nobody set.
fn default_text(resolved: &Resolved<'_>) -> Option<String> {
    Some(match resolved {
        Resolved::Builtin(Builtin::Int | Builtin::Long | Builtin::Short | Builtin::Decimal) => "0".to_string(),
        Resolved::Builtin(Builtin::Boolean) => "false".to_string(),
        Resolved::Builtin(Builtin::DateTime) => "0001-01-01T00:00:00".to_string(),
        Resolved::Enumeration(values) => values.first()?.clone(),
        _ => return None,
    })
}

pub struct XmlWriter<'s> {
    pub schema: &'s Schema,
}

impl XmlWriter<'_> {
    /// Writes `node` as the element described by `field` (absent → nil or default as the
    /// schema demands, or nothing when the member is optional).
    pub fn write(&self, out: &mut String, field: &Field, node: Option<&Node>) {
        let tag = qualified(&field.ns, &field.name);
        let resolved = self.schema.resolve(&field.ty);
        match node {
            None | Some(Node::Nil) => {
                if field.min == 0 {
                    return;
                }
                if field.nillable {
                    let _ = write!(out, "<{tag} xsi:nil=\"true\" />");
                    return;
                }
                match &resolved {
                    Some(Resolved::Complex(ct)) => self.write_complex(out, &tag, ct, &Node::tree()),
                    Some(r) => {
                        let text = default_text(r).unwrap_or_default();
                        let _ = write!(out, "<{tag}>{}</{tag}>", escape(&text));
                    }
                    None => {}
                }
            }
            Some(Node::Text(t)) => {
                let _ = write!(out, "<{tag}>{}</{tag}>", escape(t));
            }
            Some(n @ Node::Tree(_)) => {
                if let Some(Resolved::Complex(ct)) = &resolved {
                    self.write_complex(out, &tag, ct, n)
                }
            }
            Some(Node::Any(_)) => {}
        }
    }

    fn write_complex(&self, out: &mut String, tag: &str, ct: &ComplexType, node: &Node) {
        let _ = write!(out, "<{tag}");
        for a in &ct.attributes {
            if let Some(v) = node.get(&format!("@{a}")).and_then(Node::as_str) {
                let _ = write!(out, " {a}=\"{}\"", escape(v));
            }
        }
        out.push('>');
        for f in self.schema.fields(ct) {
            if f.unbounded {
                for item in node.all(&f.name) {
                    self.write(out, &f, Some(item));
                }
            } else {
                self.write(out, &f, node.get(&f.name));
            }
        }
        let _ = write!(out, "</{tag}>");
    }
}
