//! The host library's module graph, read from its `use` lines: no circle between files, and no
//! arrow to the emulators (the product does not depend on its test scaffolding).
//!
//! A file's edges are its `use crate::…` / `use super::…` paths resolved to the file that
//! defines the module. A module naming its own ancestor (`use super::X` in a child) is the
//! module tree, not an import circle, and is not counted.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).expect("src dir").flatten() {
        let p = e.path();
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// `caps/http/mod.rs` → ["caps", "http"]; `lib.rs` → [].
fn module_of(src: &Path, file: &Path) -> Vec<String> {
    let rel = file.strip_prefix(src).expect("under src").with_extension("");
    let mut parts: Vec<String> = rel.iter().map(|p| p.to_string_lossy().into_owned()).collect();
    if matches!(parts.last().map(String::as_str), Some("mod" | "lib")) {
        parts.pop();
    }
    parts
}

/// The `use` paths of a file (one per brace item), as module paths from the crate root.
fn uses(text: &str, here: &[String]) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    let mut in_tests = false;
    let mut stmt = String::new();
    for line in text.lines() {
        let t = line.trim();
        if t.starts_with("#[cfg(test)]") {
            in_tests = true; // unit tests may use anything of their module
        }
        if in_tests {
            continue;
        }
        if stmt.is_empty() && !(t.starts_with("use ") || t.starts_with("pub use ") || t.starts_with("pub(crate) use "))
        {
            continue;
        }
        stmt.push_str(t);
        if !t.ends_with(';') {
            continue;
        }
        let path = stmt.split("use ").nth(1).unwrap_or("").trim_end_matches(';').replace(' ', "");
        stmt.clear();
        let (head, items) = match path.split_once("::{") {
            Some((h, rest)) => (h.to_string(), rest.trim_end_matches('}').split(',').map(str::to_string).collect()),
            None => (path.clone(), vec![String::new()]),
        };
        for item in items {
            let full = if item.is_empty() { head.clone() } else { format!("{head}::{item}") };
            let mut segs: Vec<&str> = full.split("::").collect();
            let mut base: Vec<String> = match segs.first().copied() {
                Some("crate") => vec![],
                Some("super") => here.to_vec(),
                _ => continue, // another crate
            };
            while segs.first() == Some(&"super") {
                base.pop();
                segs.remove(0);
            }
            if segs.first() == Some(&"crate") {
                segs.remove(0);
            }
            base.extend(segs.iter().map(|s| s.split(" as ").next().unwrap_or(s).to_string()));
            out.push(base);
        }
    }
    out
}

#[test]
fn no_circle_between_host_files_and_no_emulator_dependency() {
    let src = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let modules: BTreeSet<Vec<String>> = files.iter().map(|f| module_of(&src, f)).collect();
    let mut graph: BTreeMap<Vec<String>, BTreeSet<Vec<String>>> = BTreeMap::new();
    for f in &files {
        let text = std::fs::read_to_string(f).expect("read");
        for forbidden in ["gp_sandbox", "chargebee_sandbox", "standin_sandbox", "mlc_harness"] {
            assert!(
                !text.contains(forbidden),
                "{} names {forbidden}: the host must not depend on the emulators",
                f.display()
            );
        }
        let here = module_of(&src, f);
        for path in uses(&text, &here) {
            // The longest prefix that is a file of ours.
            let target = (0..=path.len()).rev().map(|n| path[..n].to_vec()).find(|p| modules.contains(p));
            let Some(target) = target else { continue };
            let ancestor = here.starts_with(&target);
            if target != here && !ancestor {
                graph.entry(here.clone()).or_default().insert(target);
            }
        }
    }
    // Depth-first search for a back edge.
    fn visit(
        n: &Vec<String>,
        g: &BTreeMap<Vec<String>, BTreeSet<Vec<String>>>,
        state: &mut BTreeMap<Vec<String>, u8>,
        stack: &mut Vec<Vec<String>>,
    ) -> Option<Vec<Vec<String>>> {
        state.insert(n.clone(), 1);
        stack.push(n.clone());
        for m in g.get(n).into_iter().flatten() {
            match state.get(m) {
                Some(1) => {
                    let i = stack.iter().position(|x| x == m).unwrap_or(0);
                    let mut cycle = stack[i..].to_vec();
                    cycle.push(m.clone());
                    return Some(cycle);
                }
                Some(_) => {}
                None => {
                    if let Some(c) = visit(m, g, state, stack) {
                        return Some(c);
                    }
                }
            }
        }
        stack.pop();
        state.insert(n.clone(), 2);
        None
    }
    let mut state = BTreeMap::new();
    for n in graph.keys() {
        if !state.contains_key(n)
            && let Some(cycle) = visit(n, &graph, &mut state, &mut Vec::new())
        {
            let names: Vec<String> =
                cycle.iter().map(|m| if m.is_empty() { "lib".into() } else { m.join("/") }).collect();
            panic!("import circle: {}", names.join(" → "));
        }
    }
    let edges: usize = graph.values().map(BTreeSet::len).sum();
    assert!(edges > 40, "the graph was read ({edges} edges)");
}
