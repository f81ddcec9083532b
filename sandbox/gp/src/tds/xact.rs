//! A logged-in connection's state: the backend session, the transaction descriptor handed out
//! in ENVCHANGE 8, and the nesting depth of `BEGIN TRANSACTION` (SQL Server's @@TRANCOUNT:
//! inner BEGIN/COMMIT only count; ROLLBACK ends them all).

use super::backend::{Session, SqlError};
use super::tokens;

fn no_transaction(number: i32, what: &str) -> SqlError {
    SqlError {
        number,
        class: 16,
        state: 1,
        message: format!("The {what} TRANSACTION request has no corresponding BEGIN TRANSACTION."),
    }
}

pub struct Conn {
    pub session: Box<dyn Session>,
    pub spid: u16,
    descriptor: Option<u64>,
    next_descriptor: u64,
    depth: u32,
}

impl Conn {
    pub fn new(session: Box<dyn Session>, spid: u16) -> Self {
        Conn { session, spid, descriptor: None, next_descriptor: u64::from(spid) << 32, depth: 0 }
    }

    pub fn trancount(&self) -> i64 {
        if self.session.in_transaction() { i64::from(self.depth.max(1)) } else { 0 }
    }

    pub async fn begin(&mut self, out: &mut Vec<u8>) -> Result<(), SqlError> {
        self.sync(out);
        if self.session.in_transaction() {
            self.depth += 1;
            return Ok(());
        }
        self.session.begin().await?;
        self.next_descriptor += 1;
        self.descriptor = Some(self.next_descriptor);
        self.depth = 1;
        tokens::begin_transaction(out, self.next_descriptor);
        Ok(())
    }

    /// COMMIT; with `if_open`, nothing when no transaction is open.
    pub async fn commit(&mut self, out: &mut Vec<u8>, if_open: bool) -> Result<(), SqlError> {
        self.sync(out);
        if !self.session.in_transaction() {
            return if if_open { Ok(()) } else { Err(no_transaction(3902, "COMMIT")) };
        }
        if self.depth > 1 {
            self.depth -= 1;
            return Ok(());
        }
        let result = self.session.commit().await;
        self.ended(out, result.is_ok());
        result
    }

    pub async fn rollback(&mut self, out: &mut Vec<u8>, if_open: bool) -> Result<(), SqlError> {
        self.sync(out);
        if !self.session.in_transaction() {
            return if if_open { Ok(()) } else { Err(no_transaction(3903, "ROLLBACK")) };
        }
        let result = self.session.rollback().await;
        self.ended(out, false);
        result
    }

    /// After the session's transaction ended: ENVCHANGE 9/10 for the descriptor handed out.
    fn ended(&mut self, out: &mut Vec<u8>, committed: bool) {
        if self.session.in_transaction() {
            return;
        }
        if let Some(descriptor) = self.descriptor.take() {
            tokens::end_transaction(out, committed, descriptor);
        }
        self.depth = 0;
    }

    /// A transaction the session ended on its own (a procedure that rolled back) is reported
    /// as rolled back, so that the client stops sending its descriptor.
    pub fn sync(&mut self, out: &mut Vec<u8>) {
        if self.descriptor.is_some() {
            self.ended(out, false);
        }
    }

    /// The connection is closing: a transaction still open is rolled back.
    pub async fn close(&mut self) {
        if self.session.in_transaction()
            && let Err(e) = self.session.rollback().await
        {
            tracing::warn!(error = %e, "TDS: rollback at disconnect failed");
        }
    }
}
