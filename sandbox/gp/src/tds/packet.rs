//! TDS framing: the 8-byte packet header, reassembly of a message from its packets, and a reply
//! split into packets of the negotiated size.
//!
//! Header: type, status (bit 0x01 = end of message, 0x02 = ignore this message), length
//! (big-endian, header included), SPID (big-endian), packet id, window.

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

pub const HEADER_LEN: usize = 8;
/// The largest packet TDS allows (a negotiated size is at most 32767; some clients send 32768).
pub const MAX_PACKET: usize = 32_768;
/// The packet size before LOGIN7 negotiates one, and the default.
pub const DEFAULT_PACKET: usize = 4096;
/// A request larger than this is refused and the connection closed: the statements and
/// parameters of docs/econnect.md are a few kilobytes.
pub const MAX_MESSAGE: usize = 4 * 1024 * 1024;

/// Client → server packet types this endpoint reads.
pub mod kind {
    pub const SQL_BATCH: u8 = 0x01;
    pub const RPC: u8 = 0x03;
    pub const REPLY: u8 = 0x04;
    pub const ATTENTION: u8 = 0x06;
    pub const TRANSACTION_MANAGER: u8 = 0x0E;
    pub const LOGIN7: u8 = 0x10;
    pub const SSPI: u8 = 0x11;
    pub const PRELOGIN: u8 = 0x12;
}

const STATUS_EOM: u8 = 0x01;
const STATUS_IGNORE: u8 = 0x02;

/// One reassembled request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    pub kind: u8,
    pub payload: Vec<u8>,
}

/// Why reading a message stopped: the peer closed, or the framing is broken (the connection
/// cannot be resynchronised and closes).
#[derive(Debug)]
pub enum FrameError {
    Closed,
    Io(std::io::Error),
    Broken(String),
}

impl std::fmt::Display for FrameError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FrameError::Closed => f.write_str("closed by the client"),
            FrameError::Io(e) => write!(f, "i/o error: {e}"),
            FrameError::Broken(what) => write!(f, "broken framing: {what}"),
        }
    }
}

impl From<std::io::Error> for FrameError {
    fn from(e: std::io::Error) -> Self {
        if e.kind() == std::io::ErrorKind::UnexpectedEof { FrameError::Closed } else { FrameError::Io(e) }
    }
}

struct Header {
    kind: u8,
    status: u8,
    body: usize,
}

async fn read_header<S: AsyncRead + Unpin>(stream: &mut S) -> Result<Header, FrameError> {
    let mut head = [0u8; HEADER_LEN];
    stream.read_exact(&mut head).await?;
    let length = u16::from_be_bytes([head[2], head[3]]) as usize;
    if !(HEADER_LEN..=MAX_PACKET).contains(&length) {
        return Err(FrameError::Broken(format!("packet length {length} outside 8..={MAX_PACKET}")));
    }
    Ok(Header { kind: head[0], status: head[1], body: length - HEADER_LEN })
}

/// Reads packets up to the one marked end-of-message. A message the client marked "ignore" is
/// dropped and the next one read.
pub async fn read_message<S: AsyncRead + Unpin>(stream: &mut S) -> Result<Message, FrameError> {
    loop {
        let first = read_header(stream).await?;
        let mut payload = Vec::with_capacity(first.body);
        let mut header = first;
        let kind = header.kind;
        loop {
            if payload.len() + header.body > MAX_MESSAGE {
                return Err(FrameError::Broken(format!("message over {MAX_MESSAGE} bytes")));
            }
            let start = payload.len();
            payload.resize(start + header.body, 0);
            stream.read_exact(&mut payload[start..]).await?;
            if header.status & STATUS_EOM != 0 {
                break;
            }
            header = read_header(stream).await?;
            if header.kind != kind {
                return Err(FrameError::Broken(format!(
                    "packet type 0x{:02X} inside a 0x{kind:02X} message",
                    header.kind
                )));
            }
        }
        if header.status & STATUS_IGNORE == 0 {
            return Ok(Message { kind, payload });
        }
    }
}

/// Splits `payload` into reply packets (type 0x04) of at most `packet_size` bytes and writes
/// them; an empty payload still goes out as one packet.
pub async fn write_message<S: AsyncWrite + Unpin>(
    stream: &mut S,
    payload: &[u8],
    packet_size: usize,
    spid: u16,
) -> std::io::Result<()> {
    let out = frame(payload, packet_size, spid);
    stream.write_all(&out).await?;
    stream.flush().await
}

/// The packets of one reply, concatenated.
pub fn frame(payload: &[u8], packet_size: usize, spid: u16) -> Vec<u8> {
    let room = packet_size.clamp(512, MAX_PACKET) - HEADER_LEN;
    let count = payload.len().div_ceil(room).max(1);
    let mut out = Vec::with_capacity(payload.len() + count * HEADER_LEN);
    let mut chunks = payload.chunks(room).peekable();
    let mut id: u8 = 1;
    loop {
        let chunk = chunks.next().unwrap_or(&[]);
        let last = chunks.peek().is_none();
        let length = (chunk.len() + HEADER_LEN) as u16;
        out.push(kind::REPLY);
        out.push(if last { STATUS_EOM } else { 0 });
        out.extend_from_slice(&length.to_be_bytes());
        out.extend_from_slice(&spid.to_be_bytes());
        out.push(id);
        out.push(0);
        out.extend_from_slice(chunk);
        id = id.wrapping_add(1);
        if last {
            return out;
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    fn packet(kind: u8, status: u8, body: &[u8]) -> Vec<u8> {
        let mut p = vec![kind, status];
        p.extend_from_slice(&((body.len() + 8) as u16).to_be_bytes());
        p.extend_from_slice(&[0, 0, 1, 0]);
        p.extend_from_slice(body);
        p
    }

    #[tokio::test]
    async fn reassembles_and_skips_ignored() {
        let mut wire = packet(1, 0, b"ab");
        wire.extend(packet(1, 3, b"zz"));
        wire.extend(packet(1, 0, b"cd"));
        wire.extend(packet(1, 1, b"ef"));
        let mut src = &wire[..];
        let m = read_message(&mut src).await.unwrap();
        assert_eq!(m, Message { kind: 1, payload: b"cdef".to_vec() });
        assert!(matches!(read_message(&mut src).await, Err(FrameError::Closed)));
    }

    #[tokio::test]
    async fn refuses_bad_lengths_and_mixed_types() {
        let mut src: &[u8] = &[1, 1, 0, 4, 0, 0, 0, 0];
        assert!(matches!(read_message(&mut src).await, Err(FrameError::Broken(_))));
        let mut wire = packet(1, 0, b"ab");
        wire.extend(packet(3, 1, b"cd"));
        let mut src = &wire[..];
        assert!(matches!(read_message(&mut src).await, Err(FrameError::Broken(_))));
    }

    #[test]
    fn splits_at_packet_size() {
        let payload = vec![7u8; 1200];
        let out = frame(&payload, 512, 51);
        assert_eq!(out.len(), 1200 + 3 * 8);
        assert_eq!(&out[..8], &[4, 0, 2, 0, 0, 51, 1, 0]);
        let second = 512;
        assert_eq!(&out[second..second + 8], &[4, 0, 2, 0, 0, 51, 2, 0]);
        let third = 1024;
        assert_eq!(out[third + 1], 1);
        assert_eq!(frame(&[], 4096, 0), vec![4, 1, 0, 8, 0, 0, 1, 0]);
    }
}
