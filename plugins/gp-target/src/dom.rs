//! A small element tree of one of GP's answers, to send an object back as read with a few
//! members changed (GP Web Services' Update… replaces the whole object: read, modify, write).
//! Names are local (prefixes dropped) and each element keeps its namespace: written back, an
//! element whose namespace differs from its parent's declares it (`xmlns="…"`), so members GP
//! types in another namespace (a `CompanyKey`'s `Id`) stay there. `xsi:` attributes (`xsi:nil`,
//! `xsi:type`) are kept, every other attribute dropped.
//! Written through [`crate::xml::escape`].

use quick_xml::NsReader;
use quick_xml::events::{BytesStart, Event};
use quick_xml::name::ResolveResult;

use crate::xml::escape;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Element {
    pub name: String,
    /// The namespace URI as read; none = the parent's (elements built here).
    pub ns: Option<String>,
    /// `xsi:` attributes as (local name, value).
    pub xsi: Vec<(String, String)>,
    pub text: String,
    pub children: Vec<Element>,
}

const MAX_DEPTH: usize = 64;

fn start(ns: &ResolveResult<'_>, e: &BytesStart<'_>) -> Result<Element, String> {
    let mut xsi = Vec::new();
    for a in e.attributes() {
        let a = a.map_err(|err| format!("attribute: {err}"))?;
        if a.key.prefix().is_some_and(|p| p.into_inner() == "xsi") {
            // xsi:nil / xsi:type values are names: no references to resolve.
            let v = a.value.to_string();
            xsi.push((a.key.local_name().into_inner().to_string(), v));
        }
    }
    let ns = match ns {
        ResolveResult::Bound(n) => Some(n.into_inner().to_string()),
        _ => None,
    };
    Ok(Element { name: e.local_name().into_inner().to_string(), ns, xsi, ..Element::default() })
}

/// The first element named `name` in `xml`, with everything under it.
pub fn find(xml: &str, name: &str) -> Result<Option<Element>, String> {
    let mut reader = NsReader::from_str(xml);
    let mut open: Vec<Element> = Vec::new();
    loop {
        let (ns, ev) = reader.read_resolved_event().map_err(|e| format!("not well-formed XML: {e}"))?;
        let inside = !open.is_empty();
        match ev {
            Event::Start(e) => {
                let el = start(&ns, &e)?;
                if inside || el.name == name {
                    if open.len() >= MAX_DEPTH {
                        return Err("XML nested too deep".into());
                    }
                    open.push(el);
                }
            }
            Event::Empty(e) => {
                let el = start(&ns, &e)?;
                match open.last_mut() {
                    Some(parent) => parent.children.push(el),
                    None if el.name == name => return Ok(Some(el)),
                    None => {}
                }
            }
            Event::End(_) if inside => {
                let Some(done) = open.pop() else { continue };
                match open.last_mut() {
                    Some(parent) => parent.children.push(done),
                    None => return Ok(Some(done)),
                }
            }
            Event::Text(t) if inside => push_text(&mut open, &t.xml10_content()),
            Event::CData(c) if inside => push_text(&mut open, &c.xml10_content()),
            Event::GeneralRef(r) if inside => {
                let text = match r.resolve_char_ref().map_err(|e| e.to_string())? {
                    Some(c) => c.to_string(),
                    None => quick_xml::escape::resolve_xml_entity(&r).map(str::to_string).unwrap_or_default(),
                };
                push_text(&mut open, &text);
            }
            Event::DocType(_) => return Err("a DOCTYPE in a SOAP message".into()),
            Event::Eof => return Ok(None),
            _ => {}
        }
    }
}

fn push_text(open: &mut [Element], t: &str) {
    if let Some(e) = open.last_mut() {
        e.text.push_str(t);
    }
}

impl Element {
    pub fn leaf(name: &str, text: &str) -> Element {
        Element { name: name.into(), text: text.into(), ..Element::default() }
    }

    pub fn with(name: &str, children: Vec<Element>) -> Element {
        Element { name: name.into(), children, ..Element::default() }
    }

    pub fn child(&self, name: &str) -> Option<&Element> {
        self.children.iter().find(|c| c.name == name)
    }

    pub fn child_mut(&mut self, name: &str) -> Option<&mut Element> {
        self.children.iter_mut().find(|c| c.name == name)
    }

    /// Replace the child named like `el` or insert it where `order` (the type's members in
    /// WSDL order) puts it: before the first present member that comes after it.
    pub fn set(&mut self, el: Element, order: &[&str]) {
        if let Some(c) = self.child_mut(&el.name) {
            *c = el;
            return;
        }
        let rank = |n: &str| order.iter().position(|o| *o == n);
        let mine = rank(&el.name).unwrap_or(usize::MAX);
        let at = self.children.iter().position(|c| rank(&c.name).is_some_and(|r| r > mine));
        match at {
            Some(i) => self.children.insert(i, el),
            None => self.children.push(el),
        }
    }

    /// The element as XML inside a parent in namespace `parent_ns`: text escaped,
    /// whitespace-only text between children dropped.
    pub fn write(&self, out: &mut String, parent_ns: Option<&str>) {
        out.push('<');
        out.push_str(&self.name);
        let ns = self.ns.as_deref().or(parent_ns);
        if let Some(uri) = ns.filter(|uri| Some(*uri) != parent_ns) {
            out.push_str(&format!(" xmlns=\"{}\"", escape(uri)));
        }
        for (k, v) in &self.xsi {
            out.push_str(&format!(" xsi:{k}=\"{}\"", escape(v)));
        }
        if self.children.is_empty() && self.text.is_empty() {
            out.push_str("/>");
            return;
        }
        out.push('>');
        if self.children.is_empty() {
            out.push_str(&escape(&self.text));
        }
        for c in &self.children {
            c.write(out, ns);
        }
        out.push_str(&format!("</{}>", self.name));
    }

    /// The element as XML, in its own namespace as read (written where that namespace is
    /// the default, e.g. inside a GP-namespace wrapper, it declares nothing).
    pub fn xml(&self) -> String {
        let mut out = String::new();
        self.write(&mut out, self.ns.as_deref());
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_an_object_and_writes_it_back_with_a_member_changed() -> Result<(), String> {
        let answer = r#"<s:Envelope xmlns:s="x"><s:Body><R xmlns="gp"><Res><Key><Id>A&amp;B</Id><CompanyKey><Id xmlns="dyn">-1</Id></CompanyKey></Key><Name>Old</Name><PostResultsTo>Sales Offset Account</PostResultsTo><Nil xsi:nil="true" xmlns:xsi="i"/></Res></R></s:Body></s:Envelope>"#;
        let mut c = find(answer, "Res")?.ok_or("no Res")?;
        c.name = "customer".into();
        c.set(Element::leaf("Name", "New <Co>"), &["Key", "Name", "ClassKey", "PostResultsTo"]);
        c.set(
            Element::with("ClassKey", vec![Element::leaf("Id", "USA")]),
            &["Key", "Name", "ClassKey", "PostResultsTo"],
        );
        assert_eq!(
            c.xml(),
            "<customer><Key><Id>A&amp;B</Id><CompanyKey><Id xmlns=\"dyn\">-1</Id></CompanyKey></Key><Name>New &lt;Co&gt;</Name><ClassKey><Id>USA</Id></ClassKey><PostResultsTo>Sales Offset Account</PostResultsTo><Nil xsi:nil=\"true\"/></customer>"
        );
        assert_eq!(find(answer, "Missing")?, None);
        assert!(find("<a><b></a>", "b").is_err());
        Ok(())
    }
}
