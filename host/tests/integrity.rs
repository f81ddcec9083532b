//! The host's own files: a precompiled cache entry that is not byte for byte what this host
//! sealed is recompiled, never run; a directory grant may not reach the cache, the database or
//! the config file.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};

use ml_connector::config::{ComponentConfig, Config};
use ml_connector::runtime::Runtime;
use sha2::Digest;
use wasmtime::Store;
use wasmtime::component::Linker;

fn scratch() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("mlc-integrity-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).expect("scratch dir");
    dir
}

/// A component exporting `answer: func() -> u32` that returns `n`.
fn answering(dir: &Path, n: u32) -> ComponentConfig {
    let text = format!(
        r#"(component
            (core module $m (func (export "f") (result i32) i32.const {n}))
            (core instance $i (instantiate $m))
            (func (export "answer") (result u32) (canon lift (core func $i "f"))))"#
    );
    let bytes = wat::parse_str(text).expect("valid component text");
    let path = dir.join(format!("answer-{n}.wasm"));
    std::fs::write(&path, &bytes).unwrap();
    ComponentConfig::new(path, hex::encode(sha2::Sha256::digest(&bytes)))
}

async fn call_answer(rt: &Runtime, component: &wasmtime::component::Component) -> u32 {
    let mut store = Store::new(&rt.engine, ());
    store.set_epoch_deadline(1_000);
    let instance = Linker::<()>::new(&rt.engine).instantiate_async(&mut store, component).await.unwrap();
    let f = instance.get_typed_func::<(), (u32,)>(&mut store, "answer").unwrap();
    f.call_async(&mut store, ()).await.unwrap().0
}

/// The cache's artifact files (`.cwasm`), by name.
fn artifacts(cache: &Path) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = std::fs::read_dir(cache)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "cwasm"))
        .collect();
    out.sort();
    out
}

#[tokio::test]
async fn a_tampered_cache_entry_is_recompiled_not_run() {
    let dir = scratch();
    let cache = dir.join("cache");
    let forty_two = answering(&dir, 42);
    {
        let rt = Runtime::new(&cache).unwrap();
        let c = rt.load("a", &forty_two).unwrap();
        assert!(c.compiled, "first load compiles");
        assert!(!rt.load("a", &forty_two).unwrap().compiled, "second load comes from the cache");
    }
    let [artifact] = artifacts(&cache).try_into().unwrap();
    // Flip one byte in the middle of the artifact (its code, its tables: what a hostile writer
    // of the cache dir would change). The MAC no longer matches.
    let mut bytes = std::fs::read(&artifact).unwrap();
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0x01;
    std::fs::write(&artifact, &bytes).unwrap();
    let rt = Runtime::new(&cache).unwrap();
    let c = rt.load("a", &forty_two).unwrap();
    assert!(c.compiled, "a tampered entry is recompiled");
    assert_eq!(call_answer(&rt, &c.component).await, 42);
    assert!(!rt.load("a", &forty_two).unwrap().compiled, "and the fresh entry is trusted again");
}

#[tokio::test]
async fn another_components_artifact_copied_over_is_not_loaded() {
    let dir = scratch();
    let cache = dir.join("cache");
    let rt = Runtime::new(&cache).unwrap();
    let (one, two) = (answering(&dir, 1), answering(&dir, 2));
    assert!(rt.load("one", &one).unwrap().compiled);
    let before = artifacts(&cache);
    assert!(rt.load("two", &two).unwrap().compiled);
    let two_file = artifacts(&cache).into_iter().find(|p| !before.contains(p)).unwrap();
    let one_file = &before[0];
    // A valid artifact, and its valid MAC, under the other component's name.
    std::fs::copy(one_file, &two_file).unwrap();
    let mac = |p: &Path| PathBuf::from(format!("{}.mac", p.display()));
    std::fs::copy(mac(one_file), mac(&two_file)).unwrap();
    let c = rt.load("two", &two).unwrap();
    assert!(c.compiled, "a foreign artifact is recompiled");
    assert_eq!(call_answer(&rt, &c.component).await, 2, "and what runs is component two");
    // An artifact without its MAC (written by someone else, or before sealing) is not run either.
    std::fs::remove_file(mac(one_file)).unwrap();
    assert!(rt.load("one", &one).unwrap().compiled);
}

fn config_with_grant(dir: &Path, grant: &Path) -> String {
    format!(
        r#"
[host]
database = "sqlite://{db}"
cache_dir = "{cache}"
master_key = "{key}"
[components.c]
path = "c.wasm"
sha256 = "00"
[[connections]]
id = "acme"
[connections.source]
component = "c"
[connections.mapper]
component = "c"
[connections.target]
component = "c"
dirs = [{{ host = "{grant}", guest = "/data" }}]
"#,
        db = dir.join("state/ml-connector.db").display(),
        cache = dir.join("cache").display(),
        key = dir.join("keys/master.key").display(),
        grant = grant.display()
    )
}

#[test]
fn directory_grants_may_not_reach_the_hosts_files() {
    let dir = scratch();
    std::fs::create_dir_all(dir.join("state")).unwrap();
    std::fs::create_dir_all(dir.join("exports")).unwrap();
    let check = |grant: &Path| {
        let cfg: Config = toml::from_str(&config_with_grant(&dir, grant)).unwrap();
        cfg.validate().err().map(|e| e.to_string())
    };
    // The database's directory, the whole tree, a directory inside the (not yet created) cache,
    // and the database's directory reached through `..` and a symlink.
    std::os::unix::fs::symlink(dir.join("state"), dir.join("link")).unwrap();
    for grant in [dir.join("state"), dir.clone(), dir.join("cache/sub"), dir.join("exports/../state"), dir.join("link")]
    {
        let err = check(&grant).unwrap_or_else(|| panic!("{} should be refused", grant.display()));
        assert!(err.contains(&grant.display().to_string()), "names the grant: {err}");
        let names_protected = err.contains(&dir.join("state/ml-connector.db").display().to_string())
            || err.contains(&dir.join("cache").display().to_string());
        assert!(names_protected, "names the protected path: {err}");
    }
    assert_eq!(check(&dir.join("exports")), None, "an unrelated directory is fine");
    // The config file, known to `load`.
    let text = config_with_grant(&dir, &dir.join("exports"));
    let config_path = dir.join("exports/ml-connector.toml");
    std::fs::write(&config_path, text).unwrap();
    let err = Config::load(&config_path).expect_err("the config file is inside the grant");
    let err = format!("{err:#}");
    assert!(err.contains("the config file") && err.contains("ml-connector.toml"), "{err}");
}
