//! Requests after login: ALL_HEADERS (skipped), the SQL batch text, the transaction-manager
//! request, and RPC (procedure id or name, option flags, parameters).

use super::backend::{SqlError, SqlValue};
use super::params::{ParamFault, read_typed_value};
use super::wire::{Malformed, Parse, Reader, utf16_to_string};

/// A malformed request as SQL Server words it (class 16; the connection stays open).
pub fn protocol_error(detail: &str) -> SqlError {
    SqlError {
        number: 4002,
        class: 16,
        state: 1,
        message: format!("The incoming tabular data stream (TDS) protocol stream is incorrect. {detail}"),
    }
}

impl From<Malformed> for SqlError {
    fn from(m: Malformed) -> Self {
        protocol_error(&m.0)
    }
}

/// The payload after ALL_HEADERS (TDS 7.2+: a total length, then the headers, whose
/// transaction descriptor is not checked). A payload that does not start with a plausible
/// total length is taken to have none, as pre-7.2 clients send it.
pub fn body_after_headers(payload: &[u8]) -> &[u8] {
    let mut r = Reader::new(payload);
    match r.u32_le("ALL_HEADERS length") {
        Ok(total) if (4..=payload.len()).contains(&(total as usize)) => &payload[total as usize..],
        _ => payload,
    }
}

/// A SQL batch's text.
pub fn batch_text(payload: &[u8]) -> Result<String, SqlError> {
    Ok(utf16_to_string(body_after_headers(payload), "SQL batch text")?)
}

/// Transaction-manager requests (packet type 0x0E) as python-tds sends them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TmRequest {
    Begin,
    /// COMMIT; `then_begin` = fBeginXact (start a new transaction right away).
    Commit {
        then_begin: bool,
    },
    Rollback {
        then_begin: bool,
    },
    /// Anything else (DTC enlistment, savepoints, promote): refused.
    Other(u16),
}

pub fn transaction_request(payload: &[u8]) -> Result<TmRequest, SqlError> {
    let mut r = Reader::new(body_after_headers(payload));
    let kind = r.u16_le("transaction request type")?;
    let mut then_begin = || -> Parse<bool> {
        let name_len = r.u8("transaction name")? as usize;
        r.skip(name_len * 2, "transaction name")?;
        Ok(r.u8("transaction flags").unwrap_or(0) & 0x01 != 0)
    };
    Ok(match kind {
        5 => TmRequest::Begin,
        7 => TmRequest::Commit { then_begin: then_begin()? },
        8 => TmRequest::Rollback { then_begin: then_begin()? },
        other => TmRequest::Other(other),
    })
}

/// What an RPC calls.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// A well-known procedure by number (10 = sp_executesql).
    Id(u16),
    Name(String),
}

pub const SP_EXECUTESQL: u16 = 10;

#[derive(Debug, Clone, PartialEq)]
pub struct RpcParam {
    /// As sent (`@I_vDOCNUMBR`, `@P1`, `stmt`, or empty for positional).
    pub name: String,
    /// Status bit 0x01: an OUTPUT parameter.
    pub by_ref: bool,
    pub value: SqlValue,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Rpc {
    pub target: Target,
    pub params: Vec<RpcParam>,
}

fn param_error(index: usize, name: &str, fault: ParamFault) -> SqlError {
    let prefix = "The incoming tabular data stream (TDS) remote procedure call (RPC) protocol stream is incorrect.";
    let (number, detail) = match fault {
        ParamFault::UnknownType(id) => (8009, format!("Data type 0x{id:02X} is unknown.")),
        ParamFault::Bad(m) => (8016, format!("{m}.")),
    };
    SqlError {
        number,
        class: 16,
        state: 1,
        message: format!("{prefix} Parameter {} (\"{name}\"): {detail}", index + 1),
    }
}

fn read_target(r: &mut Reader) -> Parse<Target> {
    let len = r.u16_le("procedure name length")?;
    if len == 0xFFFF {
        return Ok(Target::Id(r.u16_le("procedure id")?));
    }
    Ok(Target::Name(r.utf16(len as usize, "procedure name")?))
}

pub fn rpc_request(payload: &[u8]) -> Result<Rpc, SqlError> {
    let mut r = Reader::new(body_after_headers(payload));
    let target = read_target(&mut r)?;
    r.u16_le("RPC option flags")?;
    let mut params = Vec::new();
    while let Some(next) = r.peek_u8() {
        if next == 0x80 || next == 0xFF {
            return Err(protocol_error("Several RPCs in one request are not supported."));
        }
        let index = params.len();
        let name = r.b_varchar("parameter name")?;
        let status = r.u8("parameter status").map_err(|m| param_error(index, &name, m.into()))?;
        let value = read_typed_value(&mut r).map_err(|f| param_error(index, &name, f))?;
        params.push(RpcParam { name, by_ref: status & 0x01 != 0, value });
    }
    Ok(Rpc { target, params })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    fn headers() -> Vec<u8> {
        let mut h = 22u32.to_le_bytes().to_vec();
        h.extend_from_slice(&18u32.to_le_bytes());
        h.extend_from_slice(&2u16.to_le_bytes());
        h.extend_from_slice(&[5, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0]);
        h
    }

    #[test]
    fn batch_with_and_without_headers() {
        let mut p = headers();
        p.extend_from_slice(&[b'G', 0, b'O', 0]);
        assert_eq!(batch_text(&p).unwrap(), "GO");
        assert_eq!(batch_text(&[b'S', 0, b'E', 0, b'T', 0]).unwrap(), "SET");
    }

    #[test]
    fn tm_requests() {
        let mut p = headers();
        p.extend_from_slice(&[7, 0, 0, 1, 0, 0]);
        assert_eq!(transaction_request(&p).unwrap(), TmRequest::Commit { then_begin: true });
        let mut p = headers();
        p.extend_from_slice(&[5, 0, 0, 0]);
        assert_eq!(transaction_request(&p).unwrap(), TmRequest::Begin);
    }

    #[test]
    fn rpc_by_id_with_params() {
        let mut p = headers();
        p.extend_from_slice(&[0xFF, 0xFF, 10, 0, 0, 0]);
        p.extend_from_slice(&[3, b'@', 0, b'P', 0, b'1', 0, 0, 0x26, 4, 4, 7, 0, 0, 0]);
        p.extend_from_slice(&[0, 1, 0x24, 16]);
        let err = rpc_request(&p).unwrap_err();
        assert_eq!(err.number, 8009);
        p.truncate(p.len() - 4);
        let rpc = rpc_request(&p).unwrap();
        assert_eq!(rpc.target, Target::Id(10));
        assert_eq!(rpc.params, vec![RpcParam { name: "@P1".into(), by_ref: false, value: SqlValue::Int(7) }]);
    }
}
