//! Reply tokens (MS-TDS §2.2.7), encoded for TDS 7.4: DONE/DONEPROC/DONEINPROC with 8-byte row
//! counts, ERROR/INFO, ENVCHANGE, LOGINACK, RETURNSTATUS. Only token types every client knows
//! (tiberius panics on some others).

use super::backend::SqlError;
use super::wire::Put;

pub const TOKEN_RETURNSTATUS: u8 = 0x79;
pub const TOKEN_COLMETADATA: u8 = 0x81;
pub const TOKEN_ERROR: u8 = 0xAA;
pub const TOKEN_INFO: u8 = 0xAB;
pub const TOKEN_RETURNVALUE: u8 = 0xAC;
pub const TOKEN_LOGINACK: u8 = 0xAD;
pub const TOKEN_ROW: u8 = 0xD1;
pub const TOKEN_ENVCHANGE: u8 = 0xE3;
pub const TOKEN_DONE: u8 = 0xFD;
pub const TOKEN_DONEPROC: u8 = 0xFE;
pub const TOKEN_DONEINPROC: u8 = 0xFF;

/// DONE status bits.
pub mod done {
    pub const FINAL: u16 = 0x00;
    pub const MORE: u16 = 0x01;
    pub const ERROR: u16 = 0x02;
    pub const COUNT: u16 = 0x10;
    pub const ATTENTION: u16 = 0x20;
}

/// The server name in ERROR/INFO tokens (and `@@SERVERNAME`).
pub const SERVER_NAME: &str = "GPSANDBOX";
/// What LOGINACK and `@@VERSION` claim: SQL Server 2019 (GP 18.x runs on 2016–2022).
pub const PROG_NAME: &str = "Microsoft SQL Server";
pub const PROG_VERSION: [u8; 4] = [15, 0, 0x07, 0xD0];
/// SQL_Latin1_General_CP1_CI_AS (LCID 0x0409, case/kana/width-insensitive, sort id 52): the
/// collation GP's setup asks for, sent in ENVCHANGE 7 and in every character TYPE_INFO.
pub const COLLATION: [u8; 5] = [0x09, 0x04, 0xD0, 0x00, 0x34];

pub fn done_token(out: &mut Vec<u8>, token: u8, status: u16, rows: u64) {
    out.put_u8(token);
    out.put_u16(status);
    out.put_u16(0xC1); // CurCmd: SQL Server reports SELECT's 0xC1; clients ignore it
    out.put_u64(rows);
}

pub fn done(out: &mut Vec<u8>, status: u16, rows: u64) {
    done_token(out, TOKEN_DONE, status, rows);
}

fn message(out: &mut Vec<u8>, token: u8, err: &SqlError, proc_name: &str, line: i32) {
    let mut body = Vec::new();
    body.put_i32(err.number);
    body.put_u8(err.state);
    body.put_u8(err.class);
    body.put_us_varchar(&err.message);
    body.put_b_varchar(SERVER_NAME);
    body.put_b_varchar(proc_name);
    body.put_i32(line);
    out.put_u8(token);
    out.put_u16(u16::try_from(body.len()).unwrap_or(u16::MAX));
    out.extend_from_slice(&body);
}

/// ERROR token (not followed by DONE: the caller ends the statement with the error bit).
pub fn error(out: &mut Vec<u8>, err: &SqlError, proc_name: &str) {
    message(out, TOKEN_ERROR, err, proc_name, 1);
}

/// INFO token with class 0 (the 57xx messages of login and USE).
pub fn info(out: &mut Vec<u8>, number: i32, state: u8, text: &str) {
    let err = SqlError { number, class: 0, state, message: text.to_string() };
    message(out, TOKEN_INFO, &err, "", 1);
}

fn env_change(out: &mut Vec<u8>, kind: u8, new: &[u8], old: &[u8]) {
    out.put_u8(TOKEN_ENVCHANGE);
    out.put_u16((1 + new.len() + old.len()) as u16);
    out.put_u8(kind);
    out.extend_from_slice(new);
    out.extend_from_slice(old);
}

fn b_varchar(s: &str) -> Vec<u8> {
    let mut v = Vec::new();
    v.put_b_varchar(s);
    v
}

fn b_varbyte(bytes: &[u8]) -> Vec<u8> {
    let mut v = vec![bytes.len() as u8];
    v.extend_from_slice(bytes);
    v
}

/// ENVCHANGE 1 (database) + INFO 5701, as SQL Server answers login and `USE`.
pub fn database_changed(out: &mut Vec<u8>, new: &str, old: &str) {
    env_change(out, 1, &b_varchar(new), &b_varchar(old));
    info(out, 5701, 2, &format!("Changed database context to '{new}'."));
}

pub fn language(out: &mut Vec<u8>) {
    env_change(out, 2, &b_varchar("us_english"), &b_varchar(""));
    info(out, 5703, 1, "Changed language setting to us_english.");
}

pub fn collation(out: &mut Vec<u8>) {
    env_change(out, 7, &b_varbyte(&COLLATION), &[0]);
}

pub fn packet_size(out: &mut Vec<u8>, new: usize, old: usize) {
    env_change(out, 4, &b_varchar(&new.to_string()), &b_varchar(&old.to_string()));
}

/// ENVCHANGE 8: a transaction began; clients echo `descriptor` in ALL_HEADERS.
pub fn begin_transaction(out: &mut Vec<u8>, descriptor: u64) {
    env_change(out, 8, &b_varbyte(&descriptor.to_le_bytes()), &[0]);
}

/// ENVCHANGE 9 (commit) or 10 (rollback) of the transaction `descriptor`.
pub fn end_transaction(out: &mut Vec<u8>, committed: bool, descriptor: u64) {
    let kind = if committed { 9 } else { 10 };
    env_change(out, kind, &[0], &b_varbyte(&descriptor.to_le_bytes()));
}

/// LOGINACK: T-SQL interface, TDS 7.4, the program name and version.
pub fn login_ack(out: &mut Vec<u8>) {
    let mut body = vec![1u8];
    body.extend_from_slice(&0x7400_0004u32.to_be_bytes());
    body.put_b_varchar(PROG_NAME);
    body.extend_from_slice(&PROG_VERSION);
    out.put_u8(TOKEN_LOGINACK);
    out.put_u16(body.len() as u16);
    out.extend_from_slice(&body);
}

pub fn return_status(out: &mut Vec<u8>, status: i32) {
    out.put_u8(TOKEN_RETURNSTATUS);
    out.put_i32(status);
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    #[test]
    fn collation_envchange_matches_sql_server() {
        let mut out = Vec::new();
        collation(&mut out);
        assert_eq!(out, [0xE3, 0x08, 0x00, 0x07, 0x05, 0x09, 0x04, 0xD0, 0x00, 0x34, 0x00]);
    }

    #[test]
    fn done_is_13_bytes() {
        let mut out = Vec::new();
        done(&mut out, done::ERROR, 0);
        assert_eq!(out.len(), 13);
        assert_eq!(&out[..3], &[0xFD, 0x02, 0x00]);
    }

    #[test]
    fn begin_then_commit() {
        let mut out = Vec::new();
        begin_transaction(&mut out, 7);
        assert_eq!(out, [0xE3, 11, 0, 8, 8, 7, 0, 0, 0, 0, 0, 0, 0, 0]);
        out.clear();
        end_transaction(&mut out, true, 7);
        assert_eq!(out, [0xE3, 11, 0, 9, 0, 8, 7, 0, 0, 0, 0, 0, 0, 0]);
    }
}
