//! Where master keys live, and which ones a host knows.
//!
//! `[host] master_key` names the current key's file (default `master.key` beside the config);
//! `MLC_MASTER_KEY` (hex) overrides it. Beside it: `<file>.next`, the key a rotation is moving
//! to (present only while one runs or after one crashed), and `<file>.<key id>.old`, retired
//! keys kept to read backups. A host knows all of them and picks one by a blob's key id. Files
//! hold the key as 64 hex chars, mode 0600. Nothing here creates a key implicitly: a missing
//! key file is an error where a key is needed ([`Keyring::require_current`]), never a new key.

use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use anyhow::Context;

use super::{KeyId, MasterKey, Sealed, open_v1, open_v2};

/// The environment variable that overrides the key file: the current key as 64 hex chars.
pub const ENV: &str = "MLC_MASTER_KEY";

/// Every master key a host knows: the current one, a rotation's next one, retired ones.
#[derive(Debug)]
pub struct Keyring {
    path: PathBuf,
    current: Option<MasterKey>,
    from_env: bool,
    next: Option<MasterKey>,
    /// Retired keys (`.old` files), and the key file's key when `MLC_MASTER_KEY` overrides it.
    others: Vec<MasterKey>,
}

impl Keyring {
    /// The keys at `path` (the configured master key file), `MLC_MASTER_KEY` overriding it.
    pub fn load(path: &Path) -> anyhow::Result<Keyring> {
        Keyring::load_with(path, std::env::var(ENV).ok().as_deref())
    }

    /// As [`Keyring::load`], with the environment's key given (tests; `None` = unset).
    pub fn load_with(path: &Path, env_key: Option<&str>) -> anyhow::Result<Keyring> {
        let file_key = read_key_file(path)?;
        let next = read_key_file(&next_path(path))?;
        let mut others = read_old_keys(path)?;
        let (current, from_env) = match env_key {
            Some(hex) => {
                let key = MasterKey::from_hex(hex).context(ENV)?;
                others.extend(file_key.filter(|k| k.id != key.id));
                (Some(key), true)
            }
            None => (file_key, false),
        };
        Ok(Keyring { path: path.to_path_buf(), current, from_env, next, others })
    }

    /// A keyring of just these keys, the first current (tests of the format).
    #[cfg(test)]
    pub(crate) fn of(mut keys: Vec<MasterKey>) -> Keyring {
        let current = (!keys.is_empty()).then(|| keys.remove(0));
        Keyring { path: PathBuf::from("master.key"), current, from_env: false, next: None, others: keys }
    }

    /// The configured key file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn current(&self) -> Option<&MasterKey> {
        self.current.as_ref()
    }

    /// The key a rotation is moving to, if one is under way.
    pub fn next(&self) -> Option<&MasterKey> {
        self.next.as_ref()
    }

    /// Whether the current key came from `MLC_MASTER_KEY`.
    pub fn from_env(&self) -> bool {
        self.from_env
    }

    /// The key new secrets are sealed under: a rotation's next key while one is under way (so
    /// the rotation need not come back for them), else the current one.
    pub fn sealing_key(&self) -> Option<&MasterKey> {
        self.next.as_ref().or(self.current.as_ref())
    }

    fn all(&self) -> impl Iterator<Item = &MasterKey> {
        self.current.iter().chain(self.next.iter()).chain(self.others.iter())
    }

    /// Whether a key with this id (hex) is known.
    pub fn knows(&self, key_id: &str) -> bool {
        self.all().any(|k| k.id.hex() == key_id)
    }

    fn known(&self) -> String {
        let ids: Vec<String> = self.all().map(|k| k.id.hex()).collect();
        if ids.is_empty() { "no key at all".into() } else { ids.join(", ") }
    }

    /// Open secret `name`'s blob with the key its id names (v2) or any known key (v1).
    pub fn open(&self, name: &str, blob: &[u8]) -> anyhow::Result<String> {
        let plain = match Sealed::parse(blob).with_context(|| format!("secret {name}"))? {
            Sealed::V2 { key_id, nonce, ct } => {
                let key = self.all().find(|k| k.id == key_id).with_context(|| {
                    format!(
                        "secret {name} is sealed under master key {key_id}, which this host does not have \
                         (it knows {}); restore that key as {} or {}",
                        self.known(),
                        self.path.display(),
                        old_path(&self.path, key_id).display()
                    )
                })?;
                open_v2(key, name, &nonce, ct).with_context(|| {
                    format!(
                        "secret {name} does not open under master key {key_id}: the stored blob was edited or \
                         sealed under another name"
                    )
                })?
            }
            Sealed::V1 { nonce, ct } => self.all().find_map(|k| open_v1(k, &nonce, ct)).with_context(|| {
                format!(
                    "secret {name} (v1 format) opens under none of the master keys this host knows ({}): \
                     wrong master key, or an edited blob",
                    self.known()
                )
            })?,
        };
        String::from_utf8(plain).with_context(|| format!("secret {name} is not UTF-8"))
    }

    /// Refuse when `sealed` secrets are stored but there is no current key: a missing key file
    /// must be restored, not replaced (a new key would open none of them).
    pub fn require_current(&self, sealed: usize) -> anyhow::Result<()> {
        if self.current.is_some() || sealed == 0 {
            return Ok(());
        }
        let legacy = Path::new(".mlc/master.key");
        let hint = if legacy.exists() && !same_file(legacy, &self.path) {
            format!(
                " A key file exists at {} (the old default, relative to the working directory): \
                 set [host] master_key to it, or move it to {}.",
                legacy.display(),
                self.path.display()
            )
        } else {
            String::new()
        };
        anyhow::bail!(
            "the store holds {sealed} sealed secret(s) but the master key file {} is missing: restore it from \
             your backup (or set {ENV} to the key in hex); [host] master_key in the config names the file, \
             relative to the config. A new key would open none of them, so none is created.{hint}",
            self.path.display()
        )
    }
}

fn same_file(a: &Path, b: &Path) -> bool {
    matches!((a.canonicalize(), b.canonicalize()), (Ok(a), Ok(b)) if a == b)
}

/// `<file>.next`: the key a rotation moves to.
pub fn next_path(path: &Path) -> PathBuf {
    sibling(path, "next")
}

/// `<file>.<key id>.old`: a retired key.
pub fn old_path(path: &Path, id: KeyId) -> PathBuf {
    sibling(path, &format!("{id}.old"))
}

fn sibling(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(".");
    name.push(suffix);
    path.with_file_name(name)
}

/// The key in `path`, `None` if there is no such file.
fn read_key_file(path: &Path) -> anyhow::Result<Option<MasterKey>> {
    match std::fs::read_to_string(path) {
        Ok(text) => {
            Ok(Some(MasterKey::from_hex(&text).with_context(|| format!("master key file {}", path.display()))?))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e).with_context(|| format!("reading master key file {}", path.display())),
    }
}

/// Every `<file>.*.old` beside `path`.
fn read_old_keys(path: &Path) -> anyhow::Result<Vec<MasterKey>> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let Some(stem) = path.file_name().and_then(|n| n.to_str()) else { return Ok(vec![]) };
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(vec![]),
        Err(e) => return Err(e).with_context(|| format!("listing {}", dir.display())),
    };
    let mut keys = vec![];
    for entry in entries {
        let entry = entry?;
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        if name.strip_prefix(stem).and_then(|r| r.strip_prefix('.')).is_some_and(|r| r.ends_with(".old")) {
            keys.extend(read_key_file(&entry.path())?);
        }
    }
    keys.sort_by_key(|k| k.id);
    Ok(keys)
}

/// Create a new key at `path` (refused if the file exists), saying so on stderr's log.
pub fn create(path: &Path) -> anyhow::Result<MasterKey> {
    let key = MasterKey::generate();
    write_key_file(path, &key)?;
    tracing::warn!(
        "created a new master key {} in {}: back it up, stored secrets cannot be read without it",
        key.id,
        path.display()
    );
    Ok(key)
}

/// Write `key` to `path` atomically and without overwriting: a temp file, synced, then linked
/// into place (fails if `path` exists), so no reader ever sees half a key.
pub(crate) fn write_key_file(path: &Path, key: &MasterKey) -> anyhow::Result<()> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    let tmp = sibling(path, &format!("tmp-{}", uuid::Uuid::new_v4().simple()));
    let written = (|| -> anyhow::Result<()> {
        let mut f = std::fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(&tmp)?;
        f.write_all(key.to_hex().as_bytes())?;
        f.sync_all()?;
        std::fs::hard_link(&tmp, path).map_err(|e| match e.kind() {
            std::io::ErrorKind::AlreadyExists => anyhow::anyhow!("{} exists already", path.display()),
            _ => e.into(),
        })
    })();
    let _ = std::fs::remove_file(&tmp);
    written.with_context(|| format!("writing master key file {}", path.display()))?;
    sync_dir(path)
}

/// Make a rename or link in `path`'s directory durable.
pub(crate) fn sync_dir(path: &Path) -> anyhow::Result<()> {
    let dir = path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
    std::fs::File::open(dir).and_then(|d| d.sync_all()).with_context(|| format!("syncing {}", dir.display()))
}
