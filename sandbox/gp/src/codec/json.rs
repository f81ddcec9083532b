//! SBA JSON: the WSDL object model as JSON (members by name, `ArrayOfX` as arrays, numbers
//! for numeric types), read with the same checks as the XML and written back.

use std::fmt::Write as _;

use super::{Violation, check_simple, is_decimal, join, violation};
use crate::node::Node;
use crate::schema::{Builtin, FieldType, Resolved, Schema};

/// SBA JSON: the same object model. `ArrayOfX` wrappers become JSON arrays (the shape a .NET
/// JSON serializer gives the underlying `X[]`), decimals and integers are JSON numbers.
pub struct JsonCodec<'s> {
    pub schema: &'s Schema,
    pub strict: bool,
}

/// The member naming a derived type where the WSDL declares an abstract one (`Amount` in a
/// distribution): Json.NET's `$type` convention, as a .NET service names a concrete type in JSON
/// (INFERRED: SBA's JSON for abstract members is not public). The SOAP counterpart is `xsi:type`.
pub const TYPE_KEY: &str = "$type";

impl JsonCodec<'_> {
    /// The type an object is read as: the declared one, or for an abstract declared type the
    /// derived type its `$type` names (required, as SOAP requires `xsi:type`).
    fn concrete(
        &self,
        declared: std::sync::Arc<crate::schema::ComplexType>,
        map: &serde_json::Map<String, serde_json::Value>,
        path: &str,
    ) -> Result<std::sync::Arc<crate::schema::ComplexType>, Violation> {
        let named = map.get(TYPE_KEY).and_then(serde_json::Value::as_str);
        let Some(name) = named else {
            if declared.is_abstract {
                let hint = format!("abstract type: say which one with \"{TYPE_KEY}\" (e.g. \"MoneyAmount\")");
                return Err(violation(path, hint));
            }
            return Ok(declared);
        };
        let wanted = crate::xmldom::ExpandedName { ns: None, local: name.to_string() };
        let Some((found, crate::schema::TypeDef::Complex(c))) = self.schema.find_type(&wanted) else {
            return Err(violation(path, format!("{TYPE_KEY} {name} is not a complex type of the WSDL")));
        };
        if let Some(decl_name) = &declared.name
            && !self.schema.derives_from(found, decl_name)
        {
            return Err(violation(path, format!("{TYPE_KEY} {name} does not derive from {}", decl_name.local)));
        }
        Ok(c.clone())
    }

    pub fn read(&self, v: &serde_json::Value, ty: &FieldType, path: &str) -> Result<Node, Violation> {
        use serde_json::Value;
        let resolved = self.schema.resolve(ty).ok_or_else(|| violation(path, "type is not in the WSDL"))?;
        match (v, resolved) {
            (Value::Null, _) => Ok(Node::Nil),
            (_, Resolved::Complex(ct)) => {
                if let Some(item) = self.schema.array_item(&ct) {
                    let Value::Array(items) = v else {
                        return Err(violation(path, "expected a JSON array"));
                    };
                    let mut out = Vec::new();
                    for (i, it) in items.iter().enumerate() {
                        out.push((item.name.clone(), self.read(it, &item.ty, &format!("{path}[{i}]"))?));
                    }
                    return Ok(Node::Tree(out));
                }
                let Value::Object(map) = v else {
                    return Err(violation(path, "expected a JSON object"));
                };
                let ct = self.concrete(ct, map, path)?;
                let fields = self.schema.fields(&ct);
                let mut members = Vec::new();
                for (key, value) in map.iter().filter(|(k, _)| k.as_str() != TYPE_KEY) {
                    let Some(field) = fields.iter().find(|f| f.name.eq_ignore_ascii_case(key)) else {
                        if self.strict {
                            let known: Vec<&str> = fields.iter().map(|f| f.name.as_str()).collect();
                            return Err(violation(
                                &join(path, key),
                                format!("is not a member of this type; members are {known:?}"),
                            ));
                        }
                        continue;
                    };
                    let here = join(path, &field.name);
                    if field.unbounded {
                        let Value::Array(items) = value else {
                            return Err(violation(&here, "expected a JSON array"));
                        };
                        for it in items {
                            members.push((field.name.clone(), self.read(it, &field.ty, &here)?));
                        }
                    } else {
                        members.push((field.name.clone(), self.read(value, &field.ty, &here)?));
                    }
                }
                // Keep WSDL order so both front ends hand the rules identical trees.
                members.sort_by_key(|(n, _)| fields.iter().position(|f| &f.name == n));
                Ok(Node::Tree(members))
            }
            (Value::String(s), simple) => {
                check_simple(path, s, &simple)?;
                Ok(Node::Text(s.trim().to_string()))
            }
            (Value::Number(n), simple) => {
                let s = n.to_string();
                check_simple(path, &s, &simple)?;
                Ok(Node::Text(s))
            }
            (Value::Bool(b), simple) => {
                let s = b.to_string();
                check_simple(path, &s, &simple)?;
                Ok(Node::Text(s))
            }
            (_, _) => Err(violation(path, "expected a simple value")),
        }
    }

    pub fn write(&self, out: &mut String, ty: &FieldType, node: &Node) {
        let resolved = self.schema.resolve(ty);
        match (node, resolved) {
            (Node::Nil | Node::Any(_), _) | (_, None) => out.push_str("null"),
            (Node::Text(t), Some(Resolved::Builtin(b))) if b.is_numeric() && is_decimal(t) => out.push_str(t),
            (Node::Text(t), Some(Resolved::Builtin(Builtin::Boolean))) => {
                out.push_str(if matches!(t.as_str(), "true" | "1") { "true" } else { "false" })
            }
            (Node::Text(t), _) => out.push_str(&serde_json::Value::String(t.clone()).to_string()),
            (Node::Tree(_), Some(Resolved::Complex(ct))) => {
                if let Some(item) = self.schema.array_item(&ct) {
                    out.push('[');
                    for (i, it) in node.all(&item.name).enumerate() {
                        if i > 0 {
                            out.push(',');
                        }
                        self.write(out, &item.ty, it);
                    }
                    out.push(']');
                    return;
                }
                out.push('{');
                let mut first = true;
                for f in self.schema.fields(&ct) {
                    let values: Vec<&Node> = node.all(&f.name).collect();
                    if values.is_empty() {
                        continue;
                    }
                    if !first {
                        out.push(',');
                    }
                    first = false;
                    let _ = write!(out, "{}:", serde_json::Value::String(f.name.clone()));
                    if f.unbounded {
                        out.push('[');
                        for (i, v) in values.iter().enumerate() {
                            if i > 0 {
                                out.push(',');
                            }
                            self.write(out, &f.ty, v);
                        }
                        out.push(']');
                    } else {
                        self.write(out, &f.ty, values[0]);
                    }
                }
                out.push('}');
            }
            (Node::Tree(_), Some(_)) => out.push_str("null"),
        }
    }
}
