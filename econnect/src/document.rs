//! An eConnect document → the ordered procedure calls it stands for, checked before anything
//! is sent: well-formed, no DOCTYPE, only the transaction types, nodes and elements of the
//! catalog ([`crate::procs`]), every required element present, every value of its type.
//!
//! Order: transaction types in document order; inside one, eConnect.xsd's order (children
//! before their header) whatever order the XML lists them in; `_Items` rows in document order.
//! Each call's parameters are in the procedure's element order, not the XML's.

use quick_xml::Reader;
use quick_xml::events::Event;

use crate::error::EconnectError;
use crate::procs::{self, Param, Proc, Slot};
use crate::value::{self, Value};

/// One procedure call: the node and its parameters (present elements only), typed.
#[derive(Debug, Clone, PartialEq)]
pub struct Call {
    pub proc: &'static Proc,
    /// The transaction type it came in, e.g. `RMTransactionType`.
    pub transaction_type: &'static str,
    pub params: Vec<(&'static Param, Value)>,
}

/// A checked document: the calls, in the order they run.
#[derive(Debug, Clone, PartialEq)]
pub struct Document {
    pub calls: Vec<Call>,
}

impl Document {
    /// Parse and check `xml`; `Invalid` names the node and element at fault.
    pub fn parse(xml: &str) -> Result<Document, EconnectError> {
        let root = read_tree(xml)?;
        if root.name != "eConnect" {
            return Err(EconnectError::Invalid(format!("the root element is <{}>, not <eConnect>", root.name)));
        }
        no_text(&root)?;
        let mut calls = Vec::new();
        for tt in &root.children {
            let Some(ty) = procs::transaction_type(&tt.name) else {
                return Err(EconnectError::Invalid(format!("unknown transaction type <{}>", tt.name)));
            };
            transaction(ty, tt, &mut calls)?;
        }
        if calls.is_empty() {
            return Err(EconnectError::Invalid("the document holds no transaction".into()));
        }
        Ok(Document { calls })
    }

    /// The node names in run order (for logs).
    pub fn nodes(&self) -> Vec<&'static str> {
        self.calls.iter().map(|c| c.proc.name).collect()
    }
}

fn transaction(ty: &'static procs::TransactionType, el: &Element, calls: &mut Vec<Call>) -> Result<(), EconnectError> {
    no_text(el)?;
    no_attributes(el)?;
    for child in &el.children {
        if !ty.slots.iter().any(|s| s.element() == child.name) {
            let allowed: Vec<&str> = ty.slots.iter().map(|s| s.element()).collect();
            return Err(EconnectError::Invalid(format!(
                "{}: unknown node <{}> (allowed: {})",
                ty.name,
                child.name,
                allowed.join(", ")
            )));
        }
    }
    for slot in ty.slots {
        let found: Vec<&Element> = el.children.iter().filter(|c| c.name == slot.element()).collect();
        if found.len() > 1 {
            return Err(EconnectError::Invalid(format!(
                "{}: <{}> appears {} times",
                ty.name,
                slot.element(),
                found.len()
            )));
        }
        match (*slot, found.first()) {
            (Slot::Node { proc, required: true }, None) => {
                return Err(EconnectError::Invalid(format!("{}: missing node <{}>", ty.name, proc.name)));
            }
            (Slot::Node { .. }, None) => {}
            (Slot::Node { proc, .. }, Some(node)) => calls.push(call(ty.name, proc, node)?),
            (Slot::Items { .. }, None) => {}
            (Slot::Items { element, proc }, Some(items)) => {
                no_text(items)?;
                no_attributes(items)?;
                for node in &items.children {
                    if node.name != proc.name {
                        return Err(EconnectError::Invalid(format!(
                            "{}/{element}: unknown node <{}> (only <{}>)",
                            ty.name, node.name, proc.name
                        )));
                    }
                    calls.push(call(ty.name, proc, node)?);
                }
            }
        }
    }
    Ok(())
}

fn call(transaction_type: &'static str, proc: &'static Proc, node: &Element) -> Result<Call, EconnectError> {
    no_text(node)?;
    no_attributes(node)?;
    let mut given: Vec<(&'static Param, &str)> = Vec::new();
    for el in &node.children {
        let Some(param) = proc.param(&el.name) else {
            return Err(EconnectError::invalid(proc.name, &el.name, "unknown element"));
        };
        if given.iter().any(|(p, _)| p.name == param.name) {
            return Err(EconnectError::invalid(proc.name, &el.name, "given twice"));
        }
        if let Some(inner) = el.children.first() {
            return Err(EconnectError::invalid(proc.name, &el.name, format!("holds an element <{}>", inner.name)));
        }
        if el.attributes {
            return Err(EconnectError::invalid(proc.name, &el.name, "attributes are not supported"));
        }
        given.push((param, el.text.as_str()));
    }
    let mut params = Vec::new();
    for param in proc.params {
        match given.iter().find(|(p, _)| p.name == param.name) {
            None if param.required => return Err(EconnectError::invalid(proc.name, param.name, "required, missing")),
            None => {}
            Some((_, text)) if param.required && text.trim().is_empty() => {
                return Err(EconnectError::invalid(proc.name, param.name, "required, empty"));
            }
            Some((_, text)) => {
                let v =
                    value::convert(param.ty, text).map_err(|why| EconnectError::invalid(proc.name, param.name, why))?;
                params.push((param, v));
            }
        }
    }
    Ok(Call { proc, transaction_type, params })
}

/// Text between child elements (not whitespace) means a misplaced value.
fn no_text(el: &Element) -> Result<(), EconnectError> {
    if !el.text.trim().is_empty() {
        return Err(EconnectError::Invalid(format!(
            "<{}> holds text {:?}; it holds elements only",
            el.name,
            el.text.trim()
        )));
    }
    Ok(())
}

fn no_attributes(el: &Element) -> Result<(), EconnectError> {
    if el.attributes {
        return Err(EconnectError::Invalid(format!("<{}>: attributes are not supported", el.name)));
    }
    Ok(())
}

/// The levels a valid document uses: eConnect / type / _Items / node / element.
const MAX_DEPTH: usize = 5;

/// A minimal element tree: local names, whether it had attributes, children, text.
#[derive(Debug, Default)]
struct Element {
    name: String,
    attributes: bool,
    children: Vec<Element>,
    text: String,
}

fn not_well_formed(reader: &Reader<&[u8]>, why: impl std::fmt::Display) -> EconnectError {
    EconnectError::Invalid(format!("not well-formed XML at byte {}: {why}", reader.buffer_position()))
}

fn read_tree(xml: &str) -> Result<Element, EconnectError> {
    let mut reader = Reader::from_str(xml);
    let mut stack: Vec<Element> = Vec::new();
    let mut root: Option<Element> = None;
    let open = |reader: &Reader<&[u8]>,
                start: &quick_xml::events::BytesStart<'_>,
                stack: &Vec<Element>,
                root: &Option<Element>| {
        if stack.is_empty() && root.is_some() {
            return Err(not_well_formed(reader, "a second root element"));
        }
        if stack.len() >= MAX_DEPTH {
            return Err(EconnectError::Invalid(format!("elements nested deeper than {MAX_DEPTH} levels")));
        }
        let name = start.local_name().as_ref().to_string();
        let mut attributes = false;
        for a in start.attributes() {
            let a = a.map_err(|e| not_well_formed(reader, e))?;
            // Namespace declarations carry no data.
            let key = a.key.as_ref();
            if key != "xmlns" && !key.starts_with("xmlns:") {
                attributes = true;
            }
        }
        Ok(Element { name, attributes, ..Element::default() })
    };
    loop {
        let event = reader.read_event().map_err(|e| not_well_formed(&reader, e))?;
        match event {
            Event::Start(start) => {
                let el = open(&reader, &start, &stack, &root)?;
                stack.push(el);
            }
            Event::Empty(start) => {
                let el = open(&reader, &start, &stack, &root)?;
                match stack.last_mut() {
                    Some(parent) => parent.children.push(el),
                    None => root = Some(el),
                }
            }
            Event::End(_) => {
                let done = stack.pop().ok_or_else(|| not_well_formed(&reader, "an end tag without a start"))?;
                match stack.last_mut() {
                    Some(parent) => parent.children.push(done),
                    None => root = Some(done),
                }
            }
            Event::Text(t) => push_text(&reader, &mut stack, &t.xml10_content())?,
            Event::CData(c) => {
                push_text(&reader, &mut stack, &c.into_inner())?;
            }
            Event::GeneralRef(r) => {
                let ch = if r.is_char_ref() {
                    r.resolve_char_ref().map_err(|e| not_well_formed(&reader, e))?
                } else {
                    predefined(&r.xml10_content())
                };
                let ch =
                    ch.ok_or_else(|| not_well_formed(&reader, format!("unknown entity &{};", r.xml10_content())))?;
                push_text(&reader, &mut stack, ch.encode_utf8(&mut [0; 4]))?;
            }
            Event::DocType(_) => return Err(EconnectError::Invalid("a DOCTYPE is not accepted".into())),
            Event::Eof => break,
            Event::Comment(_) | Event::Decl(_) | Event::PI(_) => {}
        }
    }
    if !stack.is_empty() {
        return Err(not_well_formed(&reader, "the document ends inside an element"));
    }
    root.ok_or_else(|| EconnectError::Invalid("not well-formed XML: no root element".into()))
}

fn push_text(reader: &Reader<&[u8]>, stack: &mut [Element], text: &str) -> Result<(), EconnectError> {
    match stack.last_mut() {
        Some(top) => top.text.push_str(text),
        None if text.trim().is_empty() => {}
        None => return Err(not_well_formed(reader, "text outside the root element")),
    }
    Ok(())
}

fn predefined(name: &str) -> Option<char> {
    Some(match name {
        "amp" => '&',
        "lt" => '<',
        "gt" => '>',
        "quot" => '"',
        "apos" => '\'',
        _ => return None,
    })
}
