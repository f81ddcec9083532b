//! Repository tasks, run as `cargo xtask <task>`:
//! - `components`: build every guest component (plugins/*, tests/components/*) for
//!   wasm32-wasip2 with the `guest` profile into `target/components/<name>.wasm`, and write
//!   `target/components/manifest.json` (name → sha256) for configs and tests.
//! - `test`: `components`, then `cargo test` over the native crates (end-to-end suites on
//!   SQLite), then the end-to-end suites again on PostgreSQL. The tests make their own SQLite
//!   files and PostgreSQL databases (server: `MLC_TEST_PG_URL`, default the local one).
//! - `demo`: `components`, then `cargo run --release -- demo`.
//!
//! Each guest is built by its own cargo invocation: the SDK's world features must not be
//! unified across guests (a component implements exactly one world).
//!
//! The guests need the `wasm32-wasip2` target. `rust-toolchain.toml` names it, but rustup adds
//! a toolchain file's targets only when it installs the toolchain, not to one already there —
//! so `components` checks the active toolchain and runs `rustup target add` when it is missing
//! (or says what to install when rustup is absent). Outputs go under `CARGO_TARGET_DIR` when it
//! is set, else `target/`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, bail};

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let root = repo_root()?;
    match args.first().map(String::as_str) {
        Some("components") => components(&root).map(|_| ()),
        Some("test") => {
            components(&root)?;
            // Everything once with the end-to-end suites on SQLite (the store crate's own suite
            // covers both backends itself) ...
            println!("== cargo test (end-to-end on SQLite)");
            run(Command::new(cargo()).current_dir(&root).arg("test").args(&args[1..]))?;
            // ... then the end-to-end suites again on a fresh PostgreSQL database per test.
            println!("== cargo test (end-to-end on PostgreSQL)");
            run(Command::new(cargo())
                .current_dir(&root)
                .env("MLC_TEST_BACKEND", "postgres")
                .args(["test", "-p", "ml-connector-tests", "-p", "ml-connector", "-p", "ml-connector-cli", "--tests"])
                .args(&args[1..]))
        }
        Some("demo") => {
            components(&root)?;
            run(Command::new(cargo())
                .current_dir(&root)
                .args(["run", "--release", "-p", "ml-connector-cli", "--bin", "ml-connector", "--", "demo"])
                .args(&args[1..]))
        }
        _ => bail!("usage: cargo xtask components | cargo xtask test | cargo xtask demo [--customers N]"),
    }
}

fn cargo() -> String {
    std::env::var("CARGO").unwrap_or_else(|_| "cargo".into())
}

fn repo_root() -> anyhow::Result<PathBuf> {
    let here = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    Ok(here.parent().context("xtask has no parent dir")?.to_path_buf())
}

fn run(cmd: &mut Command) -> anyhow::Result<()> {
    let status = cmd.status().with_context(|| format!("running {cmd:?}"))?;
    if !status.success() {
        bail!("{cmd:?} failed: {status}");
    }
    Ok(())
}

/// (package name, extra cargo args, output name)
fn guests(root: &Path) -> anyhow::Result<Vec<(String, Vec<String>, String)>> {
    let mut out = Vec::new();
    for dir in ["plugins", "tests/components"] {
        let Ok(entries) = std::fs::read_dir(root.join(dir)) else { continue };
        let mut names: Vec<String> = entries
            .filter_map(|e| e.ok())
            .filter(|e| e.path().join("Cargo.toml").is_file())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        for name in names {
            out.push((name.clone(), vec![], name.clone()));
            // The swap test needs a second, different build of the stand-in mapper.
            if name == "standin-mapper" {
                out.push((name.clone(), vec!["--features".into(), "v2".into()], "standin-mapper-v2".into()));
            }
        }
    }
    Ok(out)
}

/// `CARGO_TARGET_DIR` (relative to the repository root when relative), else `target/`.
fn target_dir(root: &Path) -> PathBuf {
    match std::env::var_os("CARGO_TARGET_DIR") {
        Some(dir) => root.join(dir),
        None => root.join("target"),
    }
}

const WASM_TARGET: &str = "wasm32-wasip2";

/// Make sure the active toolchain (the one `rust-toolchain.toml` selects here) has the guests'
/// target's standard library.
fn ensure_wasm_target(root: &Path) -> anyhow::Result<()> {
    let out = Command::new(std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into()))
        .current_dir(root)
        .args(["--print", "sysroot"])
        .output()
        .context("running rustc --print sysroot")?;
    let sysroot = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
    if sysroot.join("lib/rustlib").join(WASM_TARGET).is_dir() {
        return Ok(());
    }
    println!("== adding the {WASM_TARGET} target to the toolchain (rustup target add {WASM_TARGET})");
    match Command::new("rustup").current_dir(root).args(["target", "add", WASM_TARGET]).status() {
        Ok(s) if s.success() => Ok(()),
        Ok(s) => bail!("`rustup target add {WASM_TARGET}` failed ({s}); run it yourself, then retry"),
        Err(_) => bail!(
            "the {WASM_TARGET} target is not installed for {} and rustup is not on PATH: \
             install the target's standard library with your toolchain manager, then retry",
            sysroot.display()
        ),
    }
}

fn components(root: &Path) -> anyhow::Result<BTreeMap<String, String>> {
    ensure_wasm_target(root)?;
    let target = target_dir(root);
    let out_dir = target.join("components");
    std::fs::create_dir_all(&out_dir)?;
    let mut manifest = BTreeMap::new();
    for (package, extra, output) in guests(root)? {
        run(Command::new(cargo())
            .current_dir(root)
            .args(["build", "--quiet", "--profile", "guest", "--target", WASM_TARGET, "-p", &package])
            .args(&extra))?;
        let built = target.join(WASM_TARGET).join("guest").join(format!("{}.wasm", package.replace('-', "_")));
        let dest = out_dir.join(format!("{output}.wasm"));
        std::fs::copy(&built, &dest).with_context(|| format!("copying {}", built.display()))?;
        let digest = sha256_hex(&std::fs::read(&dest)?);
        println!("{output:<24} {digest}  {}", dest.display());
        manifest.insert(output, digest);
    }
    let json = format!(
        "{{\n{}\n}}\n",
        manifest.iter().map(|(k, v)| format!("  \"{k}\": \"{v}\"")).collect::<Vec<_>>().join(",\n")
    );
    std::fs::write(out_dir.join("manifest.json"), json)?;
    Ok(manifest)
}

fn sha256_hex(data: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(data))
}
