//! The `secret` commands as an operator runs them: `secret-set` (old spelling) and `secret set`
//! read the value from stdin, `secret list` shows names and key ids but never a value, and a
//! host (`check`) refuses to start when the store holds sealed secrets and the key file is gone.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};

const BIN: &str = env!("CARGO_BIN_EXE_ml-connector");

fn run(args: &[&str], config: &Path, stdin: &str) -> Output {
    let mut child = Command::new(BIN)
        .args(args)
        .arg("-c")
        .arg(config)
        .env_remove("MLC_MASTER_KEY")
        .env_remove("DATABASE_URL")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(stdin.as_bytes()).unwrap();
    child.wait_with_output().unwrap()
}

fn text(o: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
}

#[test]
fn a_sql_login_must_be_user_colon_password() {
    let dir = std::env::temp_dir().join(format!("mlc-cli-sql-{}", uuid_like()));
    std::fs::create_dir_all(&dir).unwrap();
    let config = dir.join("ml-connector.toml");
    std::fs::write(
        &config,
        "[host]\ndatabase = \"sqlite://store.db\"\ncache_dir = \"cache\"\n\
         [secrets.gp-sql]\nscheme = \"sql\"\norigin = \"tds://gp-sql.acme.local:1433\"\nstored = true\n",
    )
    .unwrap();
    let o = run(&["secret", "set", "gp-sql"], &config, "just-a-password\n");
    assert!(!o.status.success() && text(&o).contains("user:password"), "{}", text(&o));
    assert!(!text(&o).contains("just-a-password"), "the value was echoed: {}", text(&o));
    let o = run(&["secret", "set", "gp-sql"], &config, "mlc_gp:pa:ss\n");
    assert!(o.status.success(), "{}", text(&o));
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn set_list_and_refusal_without_the_key() {
    let dir = std::env::temp_dir().join(format!("mlc-cli-secrets-{}", uuid_like()));
    std::fs::create_dir_all(&dir).unwrap();
    let config = dir.join("ml-connector.toml");
    std::fs::write(&config, "[host]\ndatabase = \"sqlite://store.db\"\ncache_dir = \"cache\"\n").unwrap();

    let o = run(&["secret-set", "acme-chargebee"], &config, "cb-secret-value\n");
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("created master key"), "{}", text(&o));
    assert!(dir.join("master.key").exists(), "the key lives beside the config, not in the working directory");
    let o = run(&["secret", "set", "acme-gp"], &config, "DOMAIN\\user:gp-secret-value\n");
    assert!(o.status.success() && !text(&o).contains("created master key"), "{}", text(&o));

    let o = run(&["secret", "list"], &config, "");
    let out = text(&o);
    assert!(o.status.success(), "{out}");
    assert!(out.contains("acme-chargebee") && out.contains("acme-gp") && out.contains("current key"), "{out}");
    assert!(!out.contains("secret-value"), "secret list printed a value:\n{out}");

    let o = run(&["secret", "rotate-master"], &config, "");
    assert!(o.status.success() && text(&o).contains("2 secret(s) re-sealed"), "{}", text(&o));
    let o = run(&["check"], &config, "");
    assert!(o.status.success(), "{}", text(&o));

    std::fs::remove_file(dir.join("master.key")).unwrap();
    let o = run(&["check"], &config, "");
    let out = text(&o);
    assert!(!o.status.success(), "started without its master key:\n{out}");
    assert!(out.contains(&dir.join("master.key").display().to_string()) && out.contains("restore"), "{out}");
    assert!(!dir.join("master.key").exists(), "a missing key file must not silently become a new key");
}

fn uuid_like() -> String {
    let t = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos();
    format!("{}-{t}", std::process::id())
}
