//! The guest components `cargo xtask components` builds into `target/components/`, with the
//! `manifest.json` (name → sha256) it writes. One reader for the stack, the tests and benches.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::Context;

/// Where the built components are: `MLC_COMPONENTS`, else `$CARGO_TARGET_DIR/components`, else
/// `target/components` under the repository root.
pub fn components_dir() -> PathBuf {
    if let Some(p) = std::env::var_os("MLC_COMPONENTS") {
        return PathBuf::from(p);
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    match std::env::var_os("CARGO_TARGET_DIR") {
        Some(t) if Path::new(&t).is_absolute() => PathBuf::from(t).join("components"),
        Some(t) => root.join(t).join("components"),
        None => root.join("target/components"),
    }
}

/// A built component's file and sha256, from the manifest.
pub fn component(name: &str) -> anyhow::Result<(PathBuf, String)> {
    let dir = components_dir();
    let path = dir.join("manifest.json");
    let text = std::fs::read_to_string(&path).with_context(|| {
        format!("{} not found: build the components first (`cargo xtask components`)", path.display())
    })?;
    let manifest: BTreeMap<String, String> =
        serde_json::from_str(&text).with_context(|| format!("{} is not a name → sha256 map", path.display()))?;
    let digest = manifest
        .get(name)
        .with_context(|| format!("component {name} is not in {} (run `cargo xtask components`)", path.display()))?;
    let file = dir.join(format!("{name}.wasm"));
    let file = std::fs::canonicalize(&file).with_context(|| format!("{} is missing", file.display()))?;
    Ok((file, digest.clone()))
}
