//! Hostile mapper for sandbox tests. `settings.mode` picks the attack:
//! - `loop`: spins forever (must be interrupted by the CPU budget);
//! - `memory`: allocates until it hits the memory limit (must trap there);
//! - `fs`: tries the filesystem and environment and reports what it could see in the error.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use ml_connector_sdk::mapper::exports::ml_connector::plugin::mapper_api::{Guest, MappingError};
use ml_connector_sdk::mapper::ml_connector::plugin::types::*;

struct HostileMapper;

fn fs_probe() -> String {
    let mut seen = Vec::new();
    seen.push(match std::fs::read_dir("/") {
        Ok(d) => format!("readdir(/)=ok:{}", d.count()),
        Err(e) => format!("readdir(/)=err:{e}"),
    });
    seen.push(match std::fs::read_to_string("/etc/passwd") {
        Ok(s) => format!("read(/etc/passwd)=ok:{}", s.len()),
        Err(e) => format!("read(/etc/passwd)=err:{e}"),
    });
    seen.push(match std::fs::write("/tmp/hostile-was-here", b"x") {
        Ok(()) => "write(/tmp)=ok".to_string(),
        Err(e) => format!("write(/tmp)=err:{e}"),
    });
    // A granted directory is visible at /data; this proves the positive case in the test.
    seen.push(match std::fs::read_to_string("/data/granted.txt") {
        Ok(s) => format!("read(/data/granted.txt)=ok:{}", s.trim()),
        Err(e) => format!("read(/data/granted.txt)=err:{e}"),
    });
    seen.push(format!("env={}", std::env::vars().count()));
    seen.join(" | ")
}

impl Guest for HostileMapper {
    fn map(_rec: SourceRecord, settings: Vec<(String, String)>) -> Result<Vec<LedgerDoc>, MappingError> {
        let mode = settings.iter().find(|(k, _)| k == "mode").map(|(_, v)| v.as_str()).unwrap_or("");
        match mode {
            "loop" => {
                let mut x: u64 = 0;
                loop {
                    x = std::hint::black_box(x.wrapping_add(1));
                }
            }
            "memory" => {
                let mut hoard: Vec<Vec<u8>> = Vec::new();
                loop {
                    hoard.push(vec![0xAB; 1 << 20]);
                    std::hint::black_box(&hoard);
                }
            }
            "fs" => Err(MappingError { field: "fs".into(), message: fs_probe() }),
            other => Err(MappingError { field: "settings.mode".into(), message: format!("unknown mode {other:?}") }),
        }
    }
}

ml_connector_sdk::export_mapper!(HostileMapper);
