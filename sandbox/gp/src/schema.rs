//! The GP Web Services object model, read from the real legacy WSDL at start-up.
//!
//! Everything the emulator says or accepts on the wire (SOAP element names, their namespaces and
//! order, which members are required or nillable, the JSON shapes of SBA) is derived from this
//! one contract instead of being typed in by hand: Customer alone has 65 members, and a typo in
//! a hand-written order would go unnoticed by our own tests but not by GP.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};

use anyhow::{Context as _, bail};

use crate::xmldom::{self, Element, ExpandedName, NS_XS};

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
    pub source: PathBuf,
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

impl Schema {
    /// Loads the WSDL at `path`, caching it per path for the life of the process: it is 1.7 MB
    /// and every sandbox in a test binary would otherwise parse it again.
    pub fn load_cached(path: &Path) -> anyhow::Result<Arc<Schema>> {
        static CACHE: OnceLock<Mutex<HashMap<PathBuf, Arc<Schema>>>> = OnceLock::new();
        let cache = CACHE.get_or_init(Default::default);
        let key = path.canonicalize().unwrap_or_else(|_| path.to_path_buf());
        if let Some(found) = cache.lock().ok().and_then(|c| c.get(&key).cloned()) {
            return Ok(found);
        }
        let schema = Arc::new(Self::load(path)?);
        if let Ok(mut c) = cache.lock() {
            c.insert(key, schema.clone());
        }
        Ok(schema)
    }

    pub fn load(path: &Path) -> anyhow::Result<Schema> {
        let text = std::fs::read_to_string(path).with_context(|| {
            format!(
                "cannot read the GP Web Services WSDL at {} (set GpConfig::wsdl_path, --wsdl or GP_SANDBOX_WSDL \
                 to the DynamicsGP.wsdl from shared/reference/gp)",
                path.display()
            )
        })?;
        let mut schema = Self::parse(&text).with_context(|| format!("reading WSDL {}", path.display()))?;
        schema.source = path.to_path_buf();
        Ok(schema)
    }

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

/// Where the WSDL is looked for when the configuration names none: `GP_SANDBOX_WSDL`, then
/// `shared/reference/gp/DynamicsGP.wsdl` beside the repository this crate was built from, then
/// the same relative to the working directory and its parent.
pub fn default_wsdl_path() -> PathBuf {
    if let Some(p) = std::env::var_os("GP_SANDBOX_WSDL") {
        return PathBuf::from(p);
    }
    let rel = Path::new("shared/reference/gp/DynamicsGP.wsdl");
    let candidates = [
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../..").join(rel),
        rel.to_path_buf(),
        Path::new("..").join(rel),
    ];
    candidates.iter().find(|p| p.is_file()).cloned().unwrap_or_else(|| candidates[0].clone())
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
