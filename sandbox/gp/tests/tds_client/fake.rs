//! An in-memory backend for the TDS endpoint's protocol tests: it records what arrives at the
//! Session and answers with fixed results. (The real backend on the emulator's database is
//! module `econnect`; these tests check the wire only.)

use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use gp_sandbox::tds::{Backend, Column, ColumnType, Login, ProcOutcome, ResultSet, Session, SqlError, SqlValue};

pub const USER: &str = "gpintegration";
pub const PASSWORD: &str = "Pa55w0rd!é";

/// Everything sessions saw, in order.
#[derive(Debug, Default, Clone)]
pub struct Record {
    /// "begin", "commit", "rollback", "use TWO", "login TWO", "call taX", "query …".
    pub events: Vec<String>,
    pub calls: Vec<(String, Vec<(String, SqlValue)>)>,
    pub queries: Vec<(String, Vec<SqlValue>)>,
}

#[derive(Default, Clone)]
pub struct Fake {
    pub record: Arc<Mutex<Record>>,
}

impl Fake {
    pub fn snapshot(&self) -> Record {
        self.record.lock().unwrap().clone()
    }

    pub fn events(&self) -> Vec<String> {
        self.snapshot().events
    }
}

fn err(number: i32, message: &str) -> SqlError {
    SqlError { number, class: 16, state: 1, message: message.to_string() }
}

#[async_trait]
impl Backend for Fake {
    async fn login(&self, login: &Login) -> Result<Box<dyn Session>, SqlError> {
        if login.user != USER || login.password != PASSWORD {
            return Err(SqlError {
                number: 18456,
                class: 14,
                state: 1,
                message: format!("Login failed for user '{}'.", login.user),
            });
        }
        let database = if login.database.is_empty() { "TWO".to_string() } else { login.database.clone() };
        self.record.lock().unwrap().events.push(format!("login {database}"));
        Ok(Box::new(FakeSession { database, open: false, record: self.record.clone() }))
    }
}

struct FakeSession {
    database: String,
    open: bool,
    record: Arc<Mutex<Record>>,
}

impl FakeSession {
    fn event(&self, e: String) {
        self.record.lock().unwrap().events.push(e);
    }
}

fn date(y: i32, m: u8, d: u8) -> SqlValue {
    let month = time::Month::try_from(m).unwrap();
    let date = time::Date::from_calendar_date(y, month, d).unwrap();
    SqlValue::DateTime(time::PrimitiveDateTime::new(date, time::Time::MIDNIGHT))
}

/// The answer to any query on RM00101: every column type, NULLs included.
pub fn customer_rows() -> ResultSet {
    let col = |name: &str, kind| Column { name: name.to_string(), kind };
    ResultSet {
        columns: vec![
            col("RMDTYPAL", ColumnType::Int),
            col("DOCAMNT", ColumnType::Decimal { precision: 19, scale: 5 }),
            col("CUSTNAME", ColumnType::Text { max_chars: 64 }),
            col("DOCDATE", ColumnType::DateTime),
            col("CSTPONBR", ColumnType::Text { max_chars: 20 }),
        ],
        rows: vec![
            vec![
                SqlValue::Int(1),
                SqlValue::Decimal { units: 12_345_000, scale: 5 },
                SqlValue::Text("Aäron Fitz ".into()),
                date(2024, 1, 31),
                SqlValue::Null,
            ],
            vec![
                SqlValue::Int(-7),
                SqlValue::Decimal { units: -5, scale: 2 },
                SqlValue::Null,
                SqlValue::Null,
                SqlValue::Text("PO-1".into()),
            ],
        ],
    }
}

#[async_trait]
impl Session for FakeSession {
    fn database(&self) -> &str {
        &self.database
    }

    fn in_transaction(&self) -> bool {
        self.open
    }

    async fn begin(&mut self) -> Result<(), SqlError> {
        self.open = true;
        self.event("begin".into());
        Ok(())
    }

    async fn commit(&mut self) -> Result<(), SqlError> {
        self.open = false;
        self.event("commit".into());
        Ok(())
    }

    async fn rollback(&mut self) -> Result<(), SqlError> {
        self.open = false;
        self.event("rollback".into());
        Ok(())
    }

    async fn use_database(&mut self, database: &str) -> Result<(), SqlError> {
        if database.eq_ignore_ascii_case("NOPE") {
            return Err(SqlError {
                number: 911,
                class: 16,
                state: 1,
                message: format!("Database '{database}' does not exist."),
            });
        }
        self.database = database.to_string();
        self.event(format!("use {database}"));
        Ok(())
    }

    async fn call(&mut self, procedure: &str, params: &[(String, SqlValue)]) -> Result<ProcOutcome, SqlError> {
        self.event(format!("call {procedure}"));
        self.record.lock().unwrap().calls.push((procedure.to_string(), params.to_vec()));
        match procedure {
            "taNope" => Err(err(2812, "Could not find stored procedure 'taNope'.")),
            "taFail" => Ok(ProcOutcome { return_status: 1, error_state: 1234, error_string: "1234 5678".into() }),
            "taRollsBack" => {
                self.open = false;
                Ok(ProcOutcome { return_status: 1, error_state: 99, error_string: "99".into() })
            }
            _ => Ok(ProcOutcome { return_status: 0, error_state: 0, error_string: String::new() }),
        }
    }

    async fn query(&mut self, sql: &str, params: &[SqlValue]) -> Result<ResultSet, SqlError> {
        self.event(format!("query {}", sql.chars().take(40).collect::<String>()));
        self.record.lock().unwrap().queries.push((sql.to_string(), params.to_vec()));
        if sql.contains("RM00101") {
            return Ok(customer_rows());
        }
        if sql.contains("taErrorCode") {
            let rs = ResultSet {
                columns: vec![Column { name: "ErrorDesc".into(), kind: ColumnType::Text { max_chars: 255 } }],
                rows: vec![vec![SqlValue::Text(format!("text of {:?}", params.first()))]],
            };
            return Ok(rs);
        }
        Err(err(208, "Invalid object name 'X'."))
    }
}
