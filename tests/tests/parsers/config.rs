//! The host's config reader: a real config (the one the README shows, with every section) with
//! random edits, and random TOML-ish soup, through `Config` parsing and validation — an error
//! is fine, a panic or a hang is not.

use ml_connector::config::Config;
use proptest::prelude::*;

use crate::{apply, check, edits};

const CONFIG: &str = r#"
[host]
database = "sqlite://.mlc/ml-connector.db"
listen = "127.0.0.1:8080"
cache_dir = ".mlc/cache"
workers = 8
lease_ms = 30000
max_attempts = 8
[host.limits]
header_timeout_ms = 1000
[admin]
listen = "127.0.0.1:8081"
names = ["localhost"]
[components.chargebee]
path = "chargebee-source.wasm"
sha256 = "00"
memory_mb = 64
[components.mapper]
path = "gp-mapper.wasm"
sha256 = "01"
[chargebee.regions]
us = "https://{site}.chargebee.com"
[secrets.cb]
scheme = "basic-api-key"
env = "CB_KEY"
[secrets.gp]
scheme = "ntlm"
origin = "https://gp.acme.local:443"
value = "ACME\\svc:pw"
[[connections]]
id = "acme"
max_in_flight = 4
[connections.chargebee]
site = "acme"
region = "us"
api_key = "cb"
[connections.settings]
"gp.endpoint" = "soap"
[connections.source]
component = "chargebee"
[connections.mapper]
component = "mapper"
[connections.target]
component = "mapper"
allow_http = ["https://gp.acme.local"]
paced = true
secrets = { gp = "gp" }
dirs = [{ host = "/srv/x", guest = "/x" }]
"#;

const TOKENS: &[&str] = &[
    "[",
    "]",
    "[[",
    "=",
    "\"",
    "'",
    "\n",
    "{",
    "}",
    ",",
    ".",
    "\\u0000",
    "connections",
    "host",
    "-1",
    "1e999",
    "\"\"\"",
];

fn read(text: &str) -> Result<(), TestCaseError> {
    if let Ok(cfg) = toml::from_str::<Config>(text) {
        let _ = cfg.validate();
        let _ = cfg.to_toml();
    }
    Ok(())
}

#[test]
fn the_config_reader_survives_edited_configs() {
    assert!(toml::from_str::<Config>(CONFIG).is_ok(), "the seed config parses");
    check("config: edited", 1500, || edits(8), |e| read(&String::from_utf8_lossy(&apply(CONFIG.into(), &e, TOKENS))));
}

#[test]
fn the_config_reader_survives_soup() {
    let token = prop::sample::select(TOKENS.to_vec());
    check("config: soup", 1000, move || prop::collection::vec(token, 0..200), |parts| read(&parts.concat()));
}
