//! XML for GP Web Services: [`escape`], the one function every value written into a SOAP body
//! goes through, and [`Tree`], GP's answers read with quick-xml into elements addressed by a
//! path of local names (prefixes ignored).
//!
//! Reading is strict: an answer that is not well-formed XML (mismatched or unclosed tags, a bad
//! attribute, an unknown entity) is an error, never a partial read, so a truncated body cannot
//! pass for a document with missing amounts. SOAP forbids DTDs (SOAP 1.1 §3), so a DOCTYPE is
//! refused too: no entity expansion of any kind beyond XML's five and character references.

use quick_xml::Reader;
use quick_xml::events::{BytesRef, BytesStart, Event};

/// Deeper than any GP answer (about 12 levels); bounds the walk up an element's ancestors.
const MAX_DEPTH: usize = 64;

/// Text escaped for an element's content or a double- or single-quoted attribute value
/// (`&`, `<`, `>`, `"`, `'`), and a carriage return as `&#xD;`: a reader normalises a literal
/// one to a line feed, so only the reference keeps it (as .NET writes it).
pub fn escape(s: &str) -> String {
    let escaped = quick_xml::escape::escape(s);
    // Some quick-xml versions write CR as `&#13;` themselves (only a CR can produce it: a `&`
    // of the text is `&amp;`); one spelling, .NET's.
    if escaped.contains('\r') || escaped.contains("&#13;") {
        escaped.replace('\r', "&#xD;").replace("&#13;", "&#xD;")
    } else {
        escaped.into_owned()
    }
}

/// An element: `<name>text</name>`, the text escaped. `name` is always one of ours.
pub fn el(name: &str, text: &str) -> String {
    format!("<{name}>{}</{name}>", escape(text))
}

/// One element of an answer: its local name, its parent's index and its direct text
/// (text and CDATA between its own tags, references resolved; children's text not included).
#[derive(Debug, Clone)]
struct Node {
    name: String,
    parent: Option<usize>,
    text: String,
}

/// The elements of a well-formed XML document, in document order.
#[derive(Debug, Clone, Default)]
pub struct Tree {
    nodes: Vec<Node>,
}

impl Tree {
    pub fn parse(xml: &str) -> Result<Tree, String> {
        let mut reader = Reader::from_str(xml);
        let mut tree = Tree::default();
        // Indices of the open elements, innermost last.
        let mut open: Vec<usize> = Vec::new();
        loop {
            let event = reader
                .read_event()
                .map_err(|e| format!("not well-formed XML at byte {}: {e}", reader.buffer_position()))?;
            match event {
                Event::Start(e) => {
                    if open.len() >= MAX_DEPTH {
                        return Err(format!("XML nested deeper than {MAX_DEPTH} elements"));
                    }
                    let i = tree.push(&e, open.last().copied())?;
                    open.push(i);
                }
                Event::Empty(e) => {
                    tree.push(&e, open.last().copied())?;
                }
                // quick-xml has already checked that the end tag matches the start tag.
                Event::End(_) => {
                    open.pop();
                }
                Event::Text(t) => tree.append(open.last().copied(), &t.xml10_content()),
                // CDATA is literal text: no references inside it.
                Event::CData(c) => tree.append(open.last().copied(), &c.xml10_content()),
                Event::GeneralRef(r) => tree.append(open.last().copied(), &resolve(&r)?),
                Event::DocType(_) => return Err("a DOCTYPE in a SOAP message (SOAP forbids DTDs)".into()),
                Event::Comment(_) | Event::Decl(_) | Event::PI(_) => {}
                Event::Eof => break,
            }
        }
        if !open.is_empty() {
            return Err(format!("XML ends with {} element(s) unclosed", open.len()));
        }
        if tree.nodes.is_empty() {
            return Err("no XML element".into());
        }
        Ok(tree)
    }

    /// Records an element (its attributes checked, not kept: GP's answers carry values in text).
    fn push(&mut self, e: &BytesStart<'_>, parent: Option<usize>) -> Result<usize, String> {
        for attr in e.attributes() {
            attr.map_err(|err| format!("not well-formed XML: attribute of <{}>: {err}", e.name().into_inner()))?;
        }
        self.nodes.push(Node { name: e.local_name().into_inner().to_string(), parent, text: String::new() });
        Ok(self.nodes.len() - 1)
    }

    /// Text outside the root element is whitespace (or the document is not well-formed, which
    /// quick-xml reports); it belongs to no element.
    fn append(&mut self, to: Option<usize>, text: &str) {
        if let Some(node) = to.and_then(|i| self.nodes.get_mut(i)) {
            node.text.push_str(text);
        }
    }

    /// Whether the path of local names leading to element `i` (itself included) ends with
    /// `suffix`.
    pub fn ends_with(&self, i: usize, suffix: &[&str]) -> bool {
        let mut at = Some(i);
        for want in suffix.iter().rev() {
            match at.and_then(|j| self.nodes.get(j)) {
                Some(n) if n.name == *want => at = n.parent,
                _ => return false,
            }
        }
        true
    }

    /// The elements' local names and direct texts (untrimmed), in document order.
    pub fn elements(&self) -> impl Iterator<Item = (&str, &str)> {
        self.nodes.iter().map(|n| (n.name.as_str(), n.text.as_str()))
    }

    /// Text (trimmed) of the first element whose path ends with `suffix`.
    pub fn text(&self, suffix: &[&str]) -> Option<String> {
        (0..self.nodes.len()).find(|&i| self.ends_with(i, suffix)).map(|i| self.nodes[i].text.trim().to_string())
    }

    /// Texts (trimmed) of every element whose path ends with `suffix`.
    pub fn texts(&self, suffix: &[&str]) -> Vec<String> {
        (0..self.nodes.len())
            .filter(|&i| self.ends_with(i, suffix))
            .map(|i| self.nodes[i].text.trim().to_string())
            .collect()
    }
}

/// `&name;` or `&#…;` in text: XML's five predefined entities and character references. Any
/// other entity would need a DTD, which a SOAP message may not have.
fn resolve(r: &BytesRef<'_>) -> Result<String, String> {
    if let Some(c) = r.resolve_char_ref().map_err(|e| format!("not well-formed XML: &{};: {e}", &**r))? {
        return Ok(c.to_string());
    }
    quick_xml::escape::resolve_xml_entity(r).map(str::to_string).ok_or_else(|| format!("undefined entity &{};", &**r))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_paths_ignoring_prefixes() -> Result<(), String> {
        let x = Tree::parse(
            r#"<?xml version="1.0"?><soap:Envelope xmlns:soap="s"><soap:Body><R><d:Key><d:Id>A&amp;B</d:Id></d:Key><Nil xsi:nil="true"/><Amount><Value>1.50</Value></Amount></R></soap:Body></soap:Envelope>"#,
        )?;
        assert_eq!(x.text(&["Key", "Id"]).as_deref(), Some("A&B"));
        assert_eq!(x.text(&["Amount", "Value"]).as_deref(), Some("1.50"));
        assert_eq!(x.text(&["Nil"]).as_deref(), Some(""));
        assert_eq!(x.text(&["Missing"]), None);
        assert_eq!(x.text(&["R", "Key", "Id"]).as_deref(), Some("A&B"));
        assert_eq!(x.text(&["Body", "Key", "Id"]), None);
        Ok(())
    }

    #[test]
    fn cdata_comments_and_attributes_with_markup_characters() -> Result<(), String> {
        let x = Tree::parse(
            r#"<R a="x > y" b='<'><!-- <Id>not me</Id> > --><Id q=">">A<![CDATA[<b>&amp;</b>]]>&#xD;&#65;&lt;</Id></R>"#,
        )?;
        assert_eq!(x.texts(&["Id"]), vec!["A<b>&amp;</b>\rA<".to_string()]);
        Ok(())
    }

    #[test]
    fn refuses_what_is_not_well_formed() {
        for bad in [
            "<a><b></a>",
            "<a><b>text</b>",
            "<a>&nbsp;</a>",
            "<a>&#0;</a>",
            "<a x=\"1\" x=\"2\"/>",
            "<!DOCTYPE a [<!ENTITY e \"x\">]><a>&e;</a>",
            "",
            "just text",
            "<a",
        ] {
            assert!(Tree::parse(bad).is_err(), "{bad:?} was read");
        }
    }

    #[test]
    fn escapes_what_markup_would_misread() {
        assert_eq!(escape("a<b>&\"c'\r\n"), "a&lt;b&gt;&amp;&quot;c&apos;&#xD;\n");
        let x = Tree::parse(&format!("<r>{}</r>", el("v", "a<b>&\"c'\r\nd")));
        assert_eq!(x.ok().and_then(|x| x.text(&["v"])).as_deref(), Some("a<b>&\"c'\r\nd"));
    }
}
