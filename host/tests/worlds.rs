//! One linker per world: a component is linked only with the capabilities its role's world
//! declares. A component importing an interface outside its world is refused at load, with
//! the import named — before anything is instantiated.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::PathBuf;

use ml_connector::config::ComponentConfig;
use ml_connector::role::Role;
use ml_connector::runtime::Runtime;
use sha2::Digest;

/// A component (component-model text) that imports `imports` and exports nothing.
fn component(dir: &std::path::Path, name: &str, imports: &[&str]) -> ComponentConfig {
    let body: String = imports.iter().map(|i| format!("(import \"{i}\" (instance))")).collect();
    let bytes = wat::parse_str(format!("(component {body})")).expect("valid component text");
    let path: PathBuf = dir.join(format!("{name}.wasm"));
    std::fs::write(&path, &bytes).expect("write");
    ComponentConfig::new(path, hex::encode(sha2::Sha256::digest(&bytes)))
}

fn scratch() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("mlc-worlds-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).expect("scratch dir");
    dir
}

#[test]
fn a_mapper_importing_queue_is_refused_naming_the_import() {
    let dir = scratch();
    let rt = Runtime::new(&dir.join("cache")).expect("runtime");
    let c = rt.load("sneaky", &component(&dir, "sneaky", &["ml-connector:plugin/queue@0.1.0"])).expect("compiles");
    let err = rt.prepare(&c, Role::Mapper).err().expect("refused for a mapper").to_string();
    assert!(err.contains("ml-connector:plugin/queue@0.1.0"), "{err}");
    assert!(err.contains("the mapper world does not declare"), "{err}");
    assert!(err.contains("sneaky"), "{err}");
    // The same import is the source world's: linked there.
    rt.prepare(&c, Role::Source).expect("a source may import queue");
    // The target world has no queue either.
    let err = rt.prepare(&c, Role::Target).err().expect("refused for a target").to_string();
    assert!(err.contains("target world does not declare"), "{err}");
}

#[test]
fn every_capability_only_in_its_worlds() {
    let dir = scratch();
    let rt = Runtime::new(&dir.join("cache")).expect("runtime");
    for cap in ml_connector::caps::Capability::ALL {
        let import = format!("{}@0.1.0", cap.interface());
        let c = rt.load(&format!("{cap:?}"), &component(&dir, &format!("{cap:?}"), &[&import])).expect("compiles");
        for role in Role::ALL {
            let declared = ml_connector::caps::imports(role).contains(&cap);
            assert_eq!(rt.prepare(&c, role).is_ok(), declared, "{cap:?} as {role}");
        }
    }
}

#[test]
fn an_import_no_world_provides_is_named() {
    let dir = scratch();
    let rt = Runtime::new(&dir.join("cache")).expect("runtime");
    let c = rt.load("odd", &component(&dir, "odd", &["acme:evil/backdoor@1.0.0"])).expect("compiles");
    for role in Role::ALL {
        let err = rt.prepare(&c, role).err().expect("refused").to_string();
        assert!(err.contains("acme:evil/backdoor@1.0.0") && err.contains("does not provide"), "{err}");
    }
}
