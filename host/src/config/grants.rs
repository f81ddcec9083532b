//! Directory grants may not reach the host's own files: the compiled cache (native code the
//! host runs), the database, the master key, the config file. Paths are compared after
//! resolving symlinks and `..`, so a grant of a protected file's parent directory is refused.

use std::path::{Path, PathBuf};

use anyhow::bail;

use super::Config;

impl Config {
    /// The host's own files a component must never be granted: the compiled cache (native code
    /// the host runs), the database (secrets, state, the queue), the master key (and its
    /// rotation files beside it).
    pub fn protected_paths(&self) -> Vec<(String, PathBuf)> {
        let mut out = vec![
            ("the component cache".to_string(), self.host.cache_dir.clone()),
            ("the master key".to_string(), self.host.master_key.clone()),
        ];
        if let Some(rest) = self.host.database.strip_prefix("sqlite://") {
            let file = rest.split('?').next().unwrap_or(rest);
            if !file.is_empty() && !file.starts_with(':') {
                out.push(("the database".to_string(), PathBuf::from(file)));
            }
        }
        out
    }

    /// A directory grant may not contain, or lie inside, any protected path (compared after
    /// resolving symlinks and `..`, so a grant of the database's parent directory is refused).
    pub(super) fn check_dir_grants(&self, protected: &[(String, PathBuf)]) -> anyhow::Result<()> {
        let protected: Vec<(&str, &Path, PathBuf)> =
            protected.iter().map(|(what, p)| (what.as_str(), p.as_path(), canonical(p))).collect();
        for conn in &self.connections {
            for (role, rc) in [("source", &conn.source), ("mapper", &conn.mapper), ("target", &conn.target)] {
                for grant in &rc.dirs {
                    let g = canonical(&grant.host);
                    if let Some((what, path, _)) =
                        protected.iter().find(|(_, _, p)| g.starts_with(p) || p.starts_with(&g))
                    {
                        bail!(
                            "connection {}: {role} directory grant {} overlaps {what} ({}); grant a directory that holds none of the host's files",
                            conn.id,
                            grant.host.display(),
                            path.display()
                        );
                    }
                }
            }
        }
        Ok(())
    }
}

/// `p` absolute, symlinks and `..` resolved as far as it exists (the cache dir or the database
/// may not exist before the first start), the rest appended as written.
fn canonical(p: &Path) -> PathBuf {
    let abs = if p.is_absolute() {
        p.to_path_buf()
    } else {
        std::env::current_dir().map(|d| d.join(p)).unwrap_or_else(|_| p.to_path_buf())
    };
    let mut missing = Vec::new();
    let mut cur = abs.as_path();
    loop {
        if let Ok(mut found) = cur.canonicalize() {
            found.extend(missing.iter().rev());
            return found;
        }
        match (cur.parent(), cur.file_name()) {
            (Some(parent), Some(name)) => {
                missing.push(name);
                cur = parent;
            }
            _ => return abs,
        }
    }
}
