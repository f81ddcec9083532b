//! Secrets v2 over real stores, one suite run on SQLite and PostgreSQL: a blob copied to another
//! name or opened with another key is refused naming the secret; a v1 blob opens and rotation
//! re-seals it; a rotation stopped half-way and resumed leaves every secret under the new key
//! with its value; start refuses when the store holds sealed secrets and the key file is gone.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use chacha20poly1305::aead::{Aead, KeyInit};
use chacha20poly1305::{ChaCha20Poly1305, Key, Nonce};
use ml_connector::config::Config;
use ml_connector::secretbox::{Keyring, Sealed, keyring, ops, rotate};
use mlc_store::Store;

/// A fresh store and a directory for its key files.
struct Db {
    url: String,
    dir: PathBuf,
    _pg: Option<mlc_store::testing::PgTestDb>,
}

impl Db {
    fn dir() -> PathBuf {
        let dir = std::env::temp_dir().join(format!("mlc-secrets-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }
    async fn sqlite() -> Db {
        let dir = Db::dir();
        Db { url: format!("sqlite://{}", dir.join("s.db").display()), dir, _pg: None }
    }
    async fn postgres() -> Db {
        let pg = mlc_store::testing::PgTestDb::create("mlc_secrets").await;
        Db { url: pg.url().to_string(), dir: Db::dir(), _pg: Some(pg) }
    }
    async fn open(&self) -> Arc<dyn Store> {
        mlc_store::open(&self.url).await.unwrap()
    }
    fn key_file(&self) -> PathBuf {
        self.dir.join("master.key")
    }
}

macro_rules! both {
    ($($name:ident),* $(,)?) => {
        mod sqlite { $( #[tokio::test] async fn $name() { super::$name(super::Db::sqlite().await).await } )* }
        mod postgres { $( #[tokio::test] async fn $name() { super::$name(super::Db::postgres().await).await } )* }
    };
}

both!(
    swapped_or_wrong_key_refused,
    v1_opens_and_rotation_reseals,
    rotation_resumes_after_a_crash,
    start_refuses_without_the_key
);

/// A blob in the v1 format ("mlc1" ‖ nonce ‖ ciphertext, no key id, no associated data), sealed
/// here independently of the host's code.
fn seal_v1(key_file: &Path, plain: &str) -> Vec<u8> {
    let key: [u8; 32] = hex::decode(std::fs::read_to_string(key_file).unwrap().trim()).unwrap().try_into().unwrap();
    let nonce = [7u8; 12];
    let ct = ChaCha20Poly1305::new(&Key::from(key)).encrypt(&Nonce::from(nonce), plain.as_bytes()).unwrap();
    [b"mlc1".as_slice(), &nonce, &ct].concat()
}

/// A config whose secrets are all stored, its master key at `key_file`.
fn config(key_file: &Path, stored: &[&str]) -> Config {
    let mut text = String::new();
    for name in stored {
        text.push_str(&format!(
            "[secrets.{name}]\nscheme = \"bearer\"\norigin = \"https://x.example\"\nstored = true\n"
        ));
    }
    let mut config: Config = toml::from_str(&text).unwrap();
    config.host.master_key = key_file.to_path_buf();
    config
}

async fn open_all(key_file: &Path, store: &dyn Store) -> BTreeMap<String, String> {
    let ring = Keyring::load_with(key_file, None).unwrap();
    let mut out = BTreeMap::new();
    for meta in store.secret_list().await.unwrap() {
        let blob = store.secret_get(&meta.name).await.unwrap().unwrap();
        out.insert(meta.name.clone(), ring.open(&meta.name, &blob).unwrap());
    }
    out
}

async fn swapped_or_wrong_key_refused(db: Db) {
    let s = db.open().await;
    let kf = db.key_file();
    let first = ops::set(&kf, s.as_ref(), "acme-gp", "gp-password").await.unwrap();
    assert!(first.created_key, "an empty store and no key file: the first set creates the key");
    ops::set(&kf, s.as_ref(), "acme-chargebee", "cb-key").await.unwrap();
    let gp_blob = s.secret_get("acme-gp").await.unwrap().unwrap();
    assert!(!gp_blob.windows(11).any(|w| w == b"gp-password"));

    // The GP password's blob copied over the Chargebee key's row: refused, naming the secret.
    s.secret_put("acme-chargebee", Some(&first.key_id.hex()), &gp_blob).await.unwrap();
    let config = config(&kf, &["acme-gp", "acme-chargebee"]);
    let err = ml_connector::caps::secrets::resolve(&config, &BTreeMap::new(), s.as_ref()).await.unwrap_err();
    let err = format!("{err:#}");
    assert!(err.contains("acme-chargebee") && err.contains("another name"), "{err}");
    assert!(!err.contains("gp-password"), "{err}");

    // Another key (another deployment's key file) does not have this key id.
    let other = db.dir.join("other").join("master.key");
    keyring::create(&other).unwrap();
    let err = Keyring::load_with(&other, None).unwrap().open("acme-gp", &gp_blob).unwrap_err().to_string();
    assert!(err.contains("acme-gp") && err.contains(&first.key_id.hex()) && err.contains("does not have"), "{err}");
    // A v1 blob under another key: no known key opens it.
    let v1 = seal_v1(&other, "x");
    let err = Keyring::load_with(&kf, None).unwrap().open("legacy", &v1).unwrap_err().to_string();
    assert!(err.contains("legacy") && err.contains("v1"), "{err}");
}

async fn v1_opens_and_rotation_reseals(db: Db) {
    let s = db.open().await;
    let kf = db.key_file();
    let old_id = ops::init_key(&kf).unwrap().id();
    assert!(ops::init_key(&kf).is_err(), "init-key never replaces a key");
    s.secret_put("legacy", None, &seal_v1(&kf, "v1-value")).await.unwrap();
    ops::set(&kf, s.as_ref(), "modern", "v2-value").await.unwrap();
    let ring = Keyring::load_with(&kf, None).unwrap();
    assert_eq!(ring.open("legacy", &s.secret_get("legacy").await.unwrap().unwrap()).unwrap(), "v1-value");
    let states: Vec<_> = ops::list(&kf, s.as_ref()).await.unwrap().into_iter().map(|(m, st)| (m.name, st)).collect();
    assert!(states[0].0 == "legacy" && states[0].1.starts_with("v1"), "{states:?}");

    let r = rotate::rotate(&kf, s.as_ref()).await.unwrap();
    assert_eq!((r.from, r.resealed, r.resumed), (old_id, 2, false));
    let blob = s.secret_get("legacy").await.unwrap().unwrap();
    assert_eq!(Sealed::parse(&blob).unwrap().key_id(), Some(r.to));
    assert!(s.secret_list().await.unwrap().iter().all(|m| m.key_id.as_deref() == Some(r.to.hex().as_str())));
    let values = open_all(&kf, s.as_ref()).await;
    assert_eq!((values["legacy"].as_str(), values["modern"].as_str()), ("v1-value", "v2-value"));
    // The old key is kept by id, for backups sealed under it; the current file holds the new one.
    assert!(keyring::old_path(&kf, old_id).exists());
    assert_eq!(Keyring::load_with(&kf, None).unwrap().current().unwrap().id(), r.to);
}

async fn rotation_resumes_after_a_crash(db: Db) {
    let s = db.open().await;
    let kf = db.key_file();
    keyring::create(&kf).unwrap();
    let names = ["a", "b", "c", "d"];
    for n in names {
        ops::set(&kf, s.as_ref(), n, &format!("value-{n}")).await.unwrap();
    }
    s.secret_put("e", None, &seal_v1(&kf, "value-e")).await.unwrap();
    let before = open_all(&kf, s.as_ref()).await;

    // A rotation that dies after re-sealing two secrets.
    let (ring, resumed) = rotate::begin(&kf).unwrap();
    assert!(!resumed);
    let next = ring.next().unwrap().id();
    assert_eq!(rotate::reseal(&ring, s.as_ref(), Some(2)).await.unwrap(), 2);
    let ids: Vec<_> = s.secret_list().await.unwrap().into_iter().map(|m| m.key_id).collect();
    assert_eq!(ids.iter().filter(|id| id.as_deref() == Some(next.hex().as_str())).count(), 2);
    // A host starting now knows both keys and opens old and new blobs alike.
    assert_eq!(open_all(&kf, s.as_ref()).await, before);
    let config = config(&kf, &names);
    ml_connector::caps::secrets::resolve(&config, &BTreeMap::new(), s.as_ref()).await.unwrap();
    // A secret set meanwhile is sealed under the next key.
    assert_eq!(ops::set(&kf, s.as_ref(), "f", "value-f").await.unwrap().key_id, next);

    // Run again: the same next key, the rest re-sealed, the files moved.
    let r = rotate::rotate(&kf, s.as_ref()).await.unwrap();
    assert_eq!((r.to, r.resealed, r.resumed), (next, 3, true));
    assert!(s.secret_list().await.unwrap().iter().all(|m| m.key_id.as_deref() == Some(next.hex().as_str())));
    assert!(!keyring::next_path(&kf).exists());
    let mut expected = before.clone();
    expected.insert("f".into(), "value-f".into());
    // Every value, opened with the new key alone (retired key files removed).
    std::fs::remove_file(keyring::old_path(&kf, r.from)).unwrap();
    assert_eq!(open_all(&kf, s.as_ref()).await, expected);
}

async fn start_refuses_without_the_key(db: Db) {
    let s = db.open().await;
    let kf = db.key_file();
    ops::set(&kf, s.as_ref(), "acme-gp", "pw").await.unwrap();
    let config = config(&kf, &["acme-gp"]);
    ml_connector::caps::secrets::resolve(&config, &BTreeMap::new(), s.as_ref()).await.unwrap();

    std::fs::remove_file(&kf).unwrap();
    let err = ml_connector::caps::secrets::resolve(&config, &BTreeMap::new(), s.as_ref()).await.unwrap_err();
    let err = format!("{err:#}");
    assert!(err.contains(&kf.display().to_string()) && err.contains("restore"), "{err}");
    // Even with no stored secret configured: the store holds one, so the key is needed.
    let err = ml_connector::caps::secrets::resolve(&Config::default(), &BTreeMap::new(), s.as_ref()).await;
    assert!(err.is_err());
    // Neither start, nor `secret set`, nor rotation creates a key in its place.
    assert!(ops::set(&kf, s.as_ref(), "other", "x").await.is_err());
    assert!(rotate::rotate(&kf, s.as_ref()).await.is_err());
    assert!(!kf.exists() && !keyring::next_path(&kf).exists());
}
