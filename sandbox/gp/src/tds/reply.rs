//! A reply under construction: tokens appended in order, each statement closed by a DONE
//! (batch) or DONEINPROC (inside an RPC) with the "more" bit, the last one made final.

use super::backend::{ResultSet, SqlError};
use super::results;
use super::tokens::{self, TOKEN_DONE, done};

#[derive(Default)]
pub struct Reply {
    pub out: Vec<u8>,
    /// Where the last DONE token starts, while nothing has followed it.
    last_done: Option<usize>,
}

impl Reply {
    /// Appends tokens written by `f` (anything but a DONE).
    pub fn push(&mut self, f: impl FnOnce(&mut Vec<u8>)) {
        f(&mut self.out);
        self.last_done = None;
    }

    /// Ends a statement: `token` (DONE or DONEINPROC) with MORE, plus COUNT when `rows` is set.
    pub fn end_statement(&mut self, token: u8, rows: Option<u64>) {
        let start = self.out.len();
        let status = done::MORE | if rows.is_some() { done::COUNT } else { 0 };
        tokens::done_token(&mut self.out, token, status, rows.unwrap_or(0));
        self.last_done = (token == TOKEN_DONE).then_some(start);
    }

    /// A result set and its closing DONE(IN PROC).
    pub fn result_set(&mut self, token: u8, rs: &ResultSet) -> Result<(), SqlError> {
        let mut buf = Vec::new();
        let rows = results::result_set(&mut buf, rs)?;
        self.push(|out| out.extend_from_slice(&buf));
        self.end_statement(token, Some(rows));
        Ok(())
    }

    pub fn error(&mut self, err: &SqlError, proc_name: &str) {
        self.push(|out| tokens::error(out, err, proc_name));
    }

    /// Ends a batch: the last statement's DONE becomes final, or a final DONE is added
    /// (with the error bit after an error).
    pub fn finish_batch(mut self, failed: bool) -> Vec<u8> {
        match self.last_done {
            Some(at) if !failed => {
                self.out[at + 1] &= !(done::MORE as u8);
            }
            _ => tokens::done(&mut self.out, if failed { done::ERROR } else { done::FINAL }, 0),
        }
        self.out
    }

    /// Ends an RPC: DONEPROC, final (with the error bit after an error).
    pub fn finish_proc(mut self, failed: bool) -> Vec<u8> {
        let status = if failed { done::ERROR } else { done::FINAL };
        tokens::done_token(&mut self.out, tokens::TOKEN_DONEPROC, status, 0);
        self.out
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    #[test]
    fn last_done_becomes_final() {
        let mut r = Reply::default();
        r.end_statement(TOKEN_DONE, Some(2));
        let out = r.finish_batch(false);
        assert_eq!(&out[..3], &[0xFD, 0x10, 0x00]);
        assert_eq!(out.len(), 13);
        let mut r = Reply::default();
        r.end_statement(TOKEN_DONE, None);
        r.push(|o| o.push(0xE3));
        let out = r.finish_batch(false);
        assert_eq!(out.len(), 13 + 1 + 13);
        assert_eq!(&out[14..16], &[0xFD, 0x00]);
    }
}
