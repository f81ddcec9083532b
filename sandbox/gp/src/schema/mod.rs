//! The GP Web Services object model, read from the real legacy WSDL at start-up.
//!
//! `parse` reads the WSDL's XML Schema into these types; `source` says which WSDL (the vendored
//! copy compiled into the crate, or a file named by the configuration).
//!
//! Everything the emulator says or accepts on the wire (SOAP element names, their namespaces and
//! order, which members are required or nillable, the JSON shapes of SBA) is derived from this
//! one contract instead of being typed in by hand: Customer alone has 65 members, and a typo in
//! a hand-written order would go unnoticed by our own tests but not by GP.

mod parse;
mod source;

use std::collections::HashMap;
use std::sync::Arc;

use crate::xmldom::ExpandedName;

pub use source::{EMBEDDED_WSDL, WsdlSource, default_wsdl_path};

pub const NS_GP: &str = "http://schemas.microsoft.com/dynamics/gp/2006/01";
pub const NS_DYN: &str = "http://schemas.microsoft.com/dynamics/2006/01";
pub const NS_WSDL_TYPES: &str = "http://microsoft.com/wsdl/types/";

/// XML Schema built-in types the GP contract uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Builtin {
    String,
    Int,
    Long,
    Short,
    Decimal,
    Boolean,
    DateTime,
    Other,
}

impl Builtin {
    fn from_local(local: &str) -> Self {
        match local {
            "string" => Self::String,
            "int" => Self::Int,
            "long" => Self::Long,
            "short" | "unsignedByte" | "byte" | "unsignedShort" => Self::Short,
            "decimal" | "double" | "float" => Self::Decimal,
            "boolean" => Self::Boolean,
            "dateTime" => Self::DateTime,
            _ => Self::Other,
        }
    }

    /// Whether a JSON rendering uses a number rather than a string.
    pub fn is_numeric(self) -> bool {
        matches!(self, Self::Int | Self::Long | Self::Short | Self::Decimal)
    }
}

#[derive(Debug, Clone)]
pub enum FieldType {
    Builtin(Builtin),
    Named(ExpandedName),
    /// `<xs:element><xs:complexType>…` declared inline (DocExtension's `xs:any`).
    Anonymous(Arc<ComplexType>),
}

#[derive(Debug, Clone)]
pub struct Field {
    pub name: String,
    /// Namespace of the schema that declared the member (all GP schemas are elementFormDefault
    /// qualified, so inherited members keep their base type's namespace).
    pub ns: String,
    pub ty: FieldType,
    pub min: u32,
    pub unbounded: bool,
    pub nillable: bool,
}

#[derive(Debug, Clone, Default)]
pub struct ComplexType {
    pub name: Option<ExpandedName>,
    pub is_abstract: bool,
    pub base: Option<ExpandedName>,
    /// Members declared by this type itself, in order.
    pub own_fields: Vec<Field>,
    /// Content is `xs:any`: kept as raw XML.
    pub any: bool,
    pub attributes: Vec<String>,
}

#[derive(Debug, Clone)]
pub enum SimpleType {
    Enumeration(Vec<String>),
    /// A restriction of (or list over) a built-in, e.g. the guid pattern type.
    Restricted(Builtin),
}

#[derive(Debug, Clone)]
pub enum TypeDef {
    Complex(Arc<ComplexType>),
    Simple(SimpleType),
}

/// What a field's value looks like once its type reference is resolved.
#[derive(Debug, Clone)]
pub enum Resolved<'a> {
    Builtin(Builtin),
    Enumeration(&'a [String]),
    Complex(Arc<ComplexType>),
}

#[derive(Debug, Default)]
pub struct Schema {
    types: HashMap<ExpandedName, TypeDef>,
    /// Local name → every namespace that defines it, for lenient `xsi:type="CompanyKey"`.
    by_local: HashMap<String, Vec<ExpandedName>>,
    elements: HashMap<ExpandedName, Field>,
    /// Where the WSDL text came from (served again as `?wsdl`).
    pub source: WsdlSource,
}

impl Schema {
    fn add_type(&mut self, name: ExpandedName, def: TypeDef) {
        self.by_local.entry(name.local.clone()).or_default().push(name.clone());
        self.types.insert(name, def);
    }

    pub fn element(&self, ns: &str, local: &str) -> Option<&Field> {
        self.elements.get(&ExpandedName::new(ns, local))
    }

    /// Finds a type by expanded name; an unqualified or wrongly qualified name falls back to
    /// the local name when that is unambiguous (clients write `xsi:type="CompanyKey"`).
    pub fn find_type(&self, name: &ExpandedName) -> Option<(&ExpandedName, &TypeDef)> {
        if let Some(found) = self.types.get_key_value(name) {
            return Some(found);
        }
        match self.by_local.get(&name.local).map(Vec::as_slice) {
            Some([only]) => self.types.get_key_value(only),
            _ => None,
        }
    }

    pub fn complex(&self, ns: &str, local: &str) -> Option<Arc<ComplexType>> {
        match self.types.get(&ExpandedName::new(ns, local)) {
            Some(TypeDef::Complex(c)) => Some(c.clone()),
            _ => None,
        }
    }

    pub fn resolve(&self, ty: &FieldType) -> Option<Resolved<'_>> {
        match ty {
            FieldType::Builtin(b) => Some(Resolved::Builtin(*b)),
            FieldType::Anonymous(c) => Some(Resolved::Complex(c.clone())),
            FieldType::Named(n) => match self.types.get(n)? {
                TypeDef::Complex(c) => Some(Resolved::Complex(c.clone())),
                TypeDef::Simple(SimpleType::Enumeration(values)) => Some(Resolved::Enumeration(values)),
                TypeDef::Simple(SimpleType::Restricted(b)) => Some(Resolved::Builtin(*b)),
            },
        }
    }

    /// All members of a complex type, base type members first (XML Schema extension order).
    pub fn fields(&self, ct: &ComplexType) -> Vec<Field> {
        let mut chain = vec![];
        let mut base = ct.base.clone();
        while let Some(b) = base {
            match self.types.get(&b) {
                Some(TypeDef::Complex(c)) => {
                    chain.push(c.clone());
                    base = c.base.clone();
                }
                _ => break,
            }
        }
        let mut out: Vec<Field> = chain.iter().rev().flat_map(|c| c.own_fields.iter().cloned()).collect();
        out.extend(ct.own_fields.iter().cloned());
        out
    }

    /// Whether `derived` is `base` or extends it.
    pub fn derives_from(&self, derived: &ExpandedName, base: &ExpandedName) -> bool {
        let mut cur = Some(derived.clone());
        while let Some(c) = cur {
            if &c == base {
                return true;
            }
            cur = match self.types.get(&c) {
                Some(TypeDef::Complex(t)) => t.base.clone(),
                _ => None,
            };
        }
        false
    }

    /// For the `ArrayOfX` wrapper types XmlSerializer generates: the single repeated member.
    pub fn array_item(&self, ct: &ComplexType) -> Option<Field> {
        let fields = self.fields(ct);
        match fields.as_slice() {
            [only] if only.unbounded && ct.base.is_none() => Some(only.clone()),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn schema() -> Arc<Schema> {
        Schema::load_cached(&default_wsdl_path()).unwrap()
    }

    #[test]
    fn inherited_members_keep_order_and_namespace() {
        let s = schema();
        let key = s.complex(NS_GP, "BatchKey").unwrap();
        let names: Vec<_> = s.fields(&key).iter().map(|f| (f.name.clone(), f.ns.clone())).collect();
        assert_eq!(names[0], ("CompanyKey".to_string(), NS_GP.to_string()));
        assert_eq!(
            names.iter().map(|n| n.0.as_str()).collect::<Vec<_>>(),
            ["CompanyKey", "Source", "Id", "CreatedDateTime"]
        );
        let ck = s.complex(NS_DYN, "CompanyKey").unwrap();
        assert_eq!(s.fields(&ck)[0].ns, NS_DYN);
        let inv = s.complex(NS_GP, "ReceivablesInvoice").unwrap();
        let f = s.fields(&inv);
        assert_eq!(f[0].name, "Extensions");
        assert_eq!(f.last().unwrap().name, "Commissions");
    }

    #[test]
    fn finds_types_by_local_name_and_arrays() {
        let s = schema();
        let (name, _) = s.find_type(&ExpandedName { ns: None, local: "CompanyKey".into() }).unwrap();
        assert_eq!(name.ns.as_deref(), Some(NS_DYN));
        let arr = s.complex(NS_GP, "ArrayOfValidationError").unwrap();
        assert_eq!(s.array_item(&arr).unwrap().name, "ValidationError");
        assert!(
            s.derives_from(&ExpandedName::new(NS_DYN, "CompanyKey"), &ExpandedName::new(NS_DYN, "OrganizationKey"))
        );
        assert!(s.element(NS_GP, "CreateCashReceipt").is_some());
    }
}
