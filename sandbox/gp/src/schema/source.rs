//! Where the WSDL comes from: the copy vendored in this crate (`wsdl/DynamicsGP.wsdl`), compiled
//! into the binary, or a file named by `GpConfig::wsdl_path` / `--wsdl`.
//!
//! Compiled in (1.7 MB) so the emulator reads nothing outside the repository at build, test or
//! run time and a built binary runs from any directory. Parsed schemas are cached per process:
//! every sandbox in a test binary would otherwise parse the 1.7 MB again.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};

use anyhow::Context as _;

use super::Schema;

/// The GP Web Services legacy WSDL, as vendored in `sandbox/gp/wsdl/`.
pub const EMBEDDED_WSDL: &str = include_str!("../../wsdl/DynamicsGP.wsdl");

/// Which WSDL text a [`Schema`] was read from.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum WsdlSource {
    /// [`EMBEDDED_WSDL`].
    #[default]
    Embedded,
    File(PathBuf),
}

/// The vendored WSDL's path in the source tree, for tools that need a file (zeep in the tests,
/// [`Schema::load_cached`]). The sandbox itself uses the compiled-in copy, which has the same
/// bytes; loading this path returns that copy.
pub fn default_wsdl_path() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/wsdl/DynamicsGP.wsdl"))
}

/// Parsed schemas by source (`None`: embedded).
fn cache() -> &'static Mutex<HashMap<Option<PathBuf>, Arc<Schema>>> {
    static CACHE: OnceLock<Mutex<HashMap<Option<PathBuf>, Arc<Schema>>>> = OnceLock::new();
    CACHE.get_or_init(Default::default)
}

fn cached(key: Option<PathBuf>, load: impl FnOnce() -> anyhow::Result<Schema>) -> anyhow::Result<Arc<Schema>> {
    if let Some(found) = cache().lock().ok().and_then(|c| c.get(&key).cloned()) {
        return Ok(found);
    }
    let schema = Arc::new(load()?);
    if let Ok(mut c) = cache().lock() {
        c.insert(key, schema.clone());
    }
    Ok(schema)
}

impl Schema {
    /// The compiled-in WSDL, parsed once per process.
    pub fn embedded() -> anyhow::Result<Arc<Schema>> {
        cached(None, || Self::parse(EMBEDDED_WSDL).context("reading the embedded GP Web Services WSDL"))
    }

    /// Loads the WSDL at `path`, cached per path; the vendored file is the embedded copy.
    pub fn load_cached(path: &Path) -> anyhow::Result<Arc<Schema>> {
        let key = path.canonicalize().unwrap_or_else(|_| path.to_path_buf());
        if default_wsdl_path().canonicalize().is_ok_and(|vendored| vendored == key) {
            return Self::embedded();
        }
        cached(Some(key), || Self::load(path))
    }

    /// Reads and parses a WSDL file (not cached).
    pub fn load(path: &Path) -> anyhow::Result<Schema> {
        let text = std::fs::read_to_string(path).with_context(|| {
            format!(
                "cannot read the GP Web Services WSDL at {} (GpConfig::wsdl_path / --wsdl; leave it unset to use \
                 the DynamicsGP.wsdl compiled into the sandbox)",
                path.display()
            )
        })?;
        let mut schema = Self::parse(&text).with_context(|| format!("reading WSDL {}", path.display()))?;
        schema.source = WsdlSource::File(path.to_path_buf());
        Ok(schema)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_vendored_file_is_the_embedded_wsdl() {
        let file = std::fs::read_to_string(default_wsdl_path()).unwrap();
        assert!(file == EMBEDDED_WSDL, "wsdl/DynamicsGP.wsdl changed without a rebuild");
        let loaded = Schema::load_cached(&default_wsdl_path()).unwrap();
        assert!(Arc::ptr_eq(&loaded, &Schema::embedded().unwrap()), "the vendored path is parsed once");
        assert_eq!(loaded.source, WsdlSource::Embedded);
    }
}
