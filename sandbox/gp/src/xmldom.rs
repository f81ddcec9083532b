//! A small namespace-resolved XML tree, the one parser behind both the WSDL loader and the SOAP
//! request reader.
//!
//! Prefixes are resolved while reading, so a request may bind the GP namespaces to any prefix
//! (or none). Attribute values that are XML qualified names (`type`, `base`, `xsi:type`) must be
//! resolved with the bindings in force *at that element*, which is why they are resolved here
//! rather than later.

use quick_xml::events::Event;
use quick_xml::name::{QName, ResolveResult};
use quick_xml::reader::NsReader;

pub const NS_XSI: &str = "http://www.w3.org/2001/XMLSchema-instance";
pub const NS_XS: &str = "http://www.w3.org/2001/XMLSchema";

/// An expanded name: namespace URI (if any) and local name.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct ExpandedName {
    pub ns: Option<String>,
    pub local: String,
}

impl ExpandedName {
    pub fn new(ns: &str, local: &str) -> Self {
        Self { ns: Some(ns.to_string()), local: local.to_string() }
    }
}

impl std::fmt::Display for ExpandedName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.ns {
            Some(ns) => write!(f, "{{{ns}}}{}", self.local),
            None => f.write_str(&self.local),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Attribute {
    pub name: ExpandedName,
    pub value: String,
    /// The value read as a qualified name, for the attributes listed in [`QNAME_ATTRIBUTES`].
    pub qname_value: Option<ExpandedName>,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct Element {
    pub name: ExpandedName,
    pub attributes: Vec<Attribute>,
    pub children: Vec<Element>,
    pub text: String,
}

/// Attributes whose values are qualified names in the documents we read.
const QNAME_ATTRIBUTES: &[&str] = &["type", "base"];

#[derive(Debug, thiserror::Error)]
pub enum XmlError {
    #[error("XML is not well-formed at byte {position}: {message}")]
    Syntax { position: u64, message: String },
    #[error("XML document has no root element")]
    Empty,
}

impl Element {
    pub fn attr(&self, ns: Option<&str>, local: &str) -> Option<&Attribute> {
        self.attributes.iter().find(|a| a.name.local == local && a.name.ns.as_deref() == ns)
    }

    pub fn attr_value(&self, local: &str) -> Option<&str> {
        self.attr(None, local).map(|a| a.value.as_str())
    }

    /// `xsi:nil="true"` (or `1`).
    pub fn is_nil(&self) -> bool {
        self.attr(Some(NS_XSI), "nil").is_some_and(|a| matches!(a.value.trim(), "true" | "1"))
    }

    pub fn xsi_type(&self) -> Option<&ExpandedName> {
        self.attr(Some(NS_XSI), "type").and_then(|a| a.qname_value.as_ref())
    }

    pub fn is(&self, ns: &str, local: &str) -> bool {
        self.name.local == local && self.name.ns.as_deref() == Some(ns)
    }

    pub fn child(&self, ns: &str, local: &str) -> Option<&Element> {
        self.children.iter().find(|c| c.is(ns, local))
    }
}

fn syntax<E: std::fmt::Display>(reader: &NsReader<&[u8]>, e: E) -> XmlError {
    XmlError::Syntax { position: reader.buffer_position(), message: e.to_string() }
}

fn resolved_ns(r: ResolveResult<'_>) -> Option<String> {
    match r {
        ResolveResult::Bound(ns) => Some(ns.into_inner().to_string()),
        _ => None,
    }
}

fn read_start(reader: &NsReader<&[u8]>, start: &quick_xml::events::BytesStart<'_>) -> Result<Element, XmlError> {
    let (ns, local) = reader.resolver().resolve_element(start.name());
    let mut element = Element {
        name: ExpandedName { ns: resolved_ns(ns), local: local.into_inner().to_string() },
        ..Element::default()
    };
    for attr in start.attributes() {
        let attr = attr.map_err(|e| syntax(reader, e))?;
        let key = attr.key;
        if key.as_namespace_binding().is_some() {
            continue;
        }
        let (ns, local) = reader.resolver().resolve_attribute(key);
        let local = local.into_inner().to_string();
        let value =
            attr.normalized_value(quick_xml::XmlVersion::Implicit1_0).map_err(|e| syntax(reader, e))?.into_owned();
        let ns = resolved_ns(ns);
        let is_qname = QNAME_ATTRIBUTES.contains(&local.as_str()) && (ns.is_none() || ns.as_deref() == Some(NS_XSI));
        let qname_value = is_qname.then(|| {
            let (vns, vlocal) = reader.resolver().resolve_element(QName(value.trim()));
            ExpandedName { ns: resolved_ns(vns), local: vlocal.into_inner().to_string() }
        });
        element.attributes.push(Attribute { name: ExpandedName { ns, local }, value, qname_value });
    }
    Ok(element)
}

fn resolve_entity(name: &str) -> Option<char> {
    Some(match name {
        "amp" => '&',
        "lt" => '<',
        "gt" => '>',
        "quot" => '"',
        "apos" => '\'',
        _ => return None,
    })
}

/// Parses a whole document into its root element.
pub fn parse(text: &str) -> Result<Element, XmlError> {
    let mut reader = NsReader::from_str(text);
    let mut stack: Vec<Element> = Vec::new();
    let mut root = None;
    loop {
        let event = reader.read_event().map_err(|e| syntax(&reader, e))?;
        match event {
            Event::Start(start) => {
                let element = read_start(&reader, &start)?;
                stack.push(element);
            }
            Event::Empty(start) => {
                let element = read_start(&reader, &start)?;
                match stack.last_mut() {
                    Some(parent) => parent.children.push(element),
                    None => root = Some(element),
                }
            }
            Event::End(_) => {
                let Some(done) = stack.pop() else {
                    return Err(syntax(&reader, "unexpected end tag"));
                };
                match stack.last_mut() {
                    Some(parent) => parent.children.push(done),
                    None => root = Some(done),
                }
            }
            Event::Text(t) => {
                if let Some(top) = stack.last_mut() {
                    top.text.push_str(&t.xml10_content());
                }
            }
            Event::CData(c) => {
                if let Some(top) = stack.last_mut() {
                    top.text.push_str(&c.into_inner());
                }
            }
            Event::GeneralRef(r) => {
                let ch = if r.is_char_ref() {
                    r.resolve_char_ref().map_err(|e| syntax(&reader, e))?
                } else {
                    resolve_entity(&r.xml10_content())
                };
                let Some(ch) = ch else {
                    return Err(syntax(&reader, format!("unknown entity &{};", r.xml10_content())));
                };
                if let Some(top) = stack.last_mut() {
                    top.text.push(ch);
                }
            }
            Event::Eof => break,
            Event::Comment(_) | Event::Decl(_) | Event::PI(_) | Event::DocType(_) => {}
        }
    }
    if !stack.is_empty() {
        return Err(syntax(&reader, "document ended inside an element"));
    }
    root.ok_or(XmlError::Empty)
}

/// Escapes text for element content and attribute values.
pub fn escape(text: &str) -> std::borrow::Cow<'_, str> {
    quick_xml::escape::escape(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolves_any_prefix_and_qname_attributes() {
        let doc = r#"<s:Envelope xmlns:s="urn:soap" xmlns:i="http://www.w3.org/2001/XMLSchema-instance">
            <s:Body><Op xmlns="urn:gp"><ctx xmlns:x="urn:dyn"><x:Org i:type="x:CompanyKey"><x:Id>-1</x:Id></x:Org>
            <Name>A &amp; B &#65;<![CDATA[<c>]]></Name><Gone i:nil="true"/></ctx></Op></s:Body></s:Envelope>"#;
        let root = parse(doc).unwrap();
        assert!(root.is("urn:soap", "Envelope"));
        let op = &root.children[0].children[0];
        assert!(op.is("urn:gp", "Op"));
        let org = &op.children[0].children[0];
        assert!(org.is("urn:dyn", "Org"));
        assert_eq!(org.xsi_type().unwrap(), &ExpandedName::new("urn:dyn", "CompanyKey"));
        assert_eq!(op.children[0].children[1].text, "A & B A<c>");
        assert!(op.children[0].children[2].is_nil());
    }

    #[test]
    fn rejects_malformed() {
        assert!(parse("<a><b></a>").is_err());
        assert!(parse("").is_err());
    }
}
