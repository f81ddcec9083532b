//! Just enough XML for GP Web Services: escape what we write, and read element text by a path of
//! local names (prefixes ignored) out of what GP answers. No DTDs, no entities beyond XML's five.

pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c => out.push(c),
        }
    }
    out
}

pub fn unescape(s: &str) -> String {
    if !s.contains('&') {
        return s.to_string();
    }
    s.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&apos;", "'")
        .replace("&#xD;", "\r")
        .replace("&amp;", "&")
}

/// An element: `<name>text</name>`, or empty when `text` is none.
pub fn el(name: &str, text: &str) -> String {
    format!("<{name}>{}</{name}>", escape(text))
}

/// Elements in document order with the stack of local names leading to them and their text
/// (direct text only).
pub fn elements(xml: &str) -> Vec<(Vec<String>, String)> {
    let mut out: Vec<(Vec<String>, String)> = Vec::new();
    let mut stack: Vec<(String, usize)> = Vec::new();
    let mut rest = xml;
    while let Some(lt) = rest.find('<') {
        let text = &rest[..lt];
        if let Some((_, idx)) = stack.last() {
            out[*idx].1.push_str(&unescape(text));
        }
        rest = &rest[lt..];
        let Some(gt) = rest.find('>') else { break };
        let tag = &rest[1..gt];
        rest = &rest[gt + 1..];
        if tag.starts_with('?') || tag.starts_with('!') {
            continue;
        }
        if let Some(close) = tag.strip_prefix('/') {
            let name = local(close.trim());
            if let Some(pos) = stack.iter().rposition(|(n, _)| *n == name) {
                stack.truncate(pos);
            }
            continue;
        }
        let self_closing = tag.ends_with('/');
        let tag = tag.trim_end_matches('/');
        let name = local(tag.split_whitespace().next().unwrap_or(""));
        let mut path: Vec<String> = stack.iter().map(|(n, _)| n.clone()).collect();
        path.push(name.clone());
        out.push((path, String::new()));
        if !self_closing {
            stack.push((name, out.len() - 1));
        }
    }
    out
}

fn local(name: &str) -> String {
    name.rsplit(':').next().unwrap_or(name).to_string()
}

/// Text of the first element whose path ends with `suffix` (local names).
pub fn text(xml: &[(Vec<String>, String)], suffix: &[&str]) -> Option<String> {
    xml.iter()
        .find(|(p, _)| p.len() >= suffix.len() && p[p.len() - suffix.len()..].iter().zip(suffix).all(|(a, b)| a == b))
        .map(|(_, t)| t.trim().to_string())
}

/// Texts of every element whose path ends with `suffix`.
pub fn texts(xml: &[(Vec<String>, String)], suffix: &[&str]) -> Vec<String> {
    xml.iter()
        .filter(|(p, _)| p.len() >= suffix.len() && p[p.len() - suffix.len()..].iter().zip(suffix).all(|(a, b)| a == b))
        .map(|(_, t)| t.trim().to_string())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_paths_ignoring_prefixes() {
        let x = elements(
            r#"<?xml version="1.0"?><soap:Envelope xmlns:soap="s"><soap:Body><R><d:Key><d:Id>A&amp;B</d:Id></d:Key><Nil xsi:nil="true"/><Amount><Value>1.50</Value></Amount></R></soap:Body></soap:Envelope>"#,
        );
        assert_eq!(text(&x, &["Key", "Id"]).as_deref(), Some("A&B"));
        assert_eq!(text(&x, &["Amount", "Value"]).as_deref(), Some("1.50"));
        assert_eq!(text(&x, &["Nil"]).as_deref(), Some(""));
        assert_eq!(text(&x, &["Missing"]), None);
    }

    #[test]
    fn escapes_round_trip() {
        let s = "a<b>&\"c'";
        assert_eq!(unescape(&escape(s)), s);
    }
}
