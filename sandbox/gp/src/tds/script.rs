//! The statement forms the endpoint understands (docs/econnect.md), parsed from a batch or an
//! sp_executesql statement: transaction control, `USE`, `SET …` (ignored), `DECLARE`,
//! `EXEC [@rc =] [schema.]proc @name = value [OUTPUT], …`, `SELECT` of variables and
//! constants, and any other `SELECT` as a read query handed to the backend as written.
//! The whole text is parsed before anything runs: one unknown statement refuses the batch
//! with error 102, as a compile error does in SQL Server.

use super::backend::{ColumnType, SqlError, SqlValue};
use super::lexer::{Tok, Token, syntax_error, tokenize};
use super::params::parse_decimal;

#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    /// `@name` (user variable or `@Pn`) or `@@name`, lowercased.
    Var(String),
    Lit(SqlValue),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Arg {
    /// `@I_vDOCNUMBR`, as written.
    pub name: String,
    pub value: Expr,
    pub output: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Exec {
    /// The variable of `EXEC @rc = …`, lowercased.
    pub status_var: Option<String>,
    /// The procedure's name without database and schema.
    pub procedure: String,
    pub args: Vec<Arg>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Stmt {
    Begin,
    /// `COMMIT`; `if_open` for `IF @@TRANCOUNT > 0 COMMIT`.
    Commit {
        if_open: bool,
    },
    Rollback {
        if_open: bool,
    },
    Use(String),
    Set,
    Declare(Vec<(String, ColumnType)>),
    Exec(Exec),
    /// `SELECT expr [AS alias], …` with no FROM.
    SelectValues(Vec<(Expr, String)>),
    /// Any other SELECT, as written.
    Query(String),
}

const STARTS: [&str; 11] =
    ["SET", "USE", "BEGIN", "COMMIT", "ROLLBACK", "IF", "SELECT", "EXEC", "EXECUTE", "DECLARE", "WITH"];

struct Parser<'a> {
    src: &'a str,
    toks: Vec<Token>,
    i: usize,
}

impl Parser<'_> {
    fn peek(&self) -> Option<&Token> {
        self.toks.get(self.i)
    }

    fn bump(&mut self) -> Option<Token> {
        let t = self.toks.get(self.i).cloned();
        self.i += usize::from(t.is_some());
        t
    }

    fn error_here(&self) -> SqlError {
        match self.peek() {
            Some(t) => syntax_error(&self.src[t.start..t.end]),
            None => syntax_error(self.toks.last().map(|t| &self.src[t.start..t.end]).unwrap_or("")),
        }
    }

    fn eat_word(&mut self, kw: &str) -> bool {
        let hit = self.peek().is_some_and(|t| t.is_word(kw));
        self.i += usize::from(hit);
        hit
    }

    fn eat_punct(&mut self, c: char) -> bool {
        let hit = self.peek().is_some_and(|t| t.is_punct(c));
        self.i += usize::from(hit);
        hit
    }

    fn expect_punct(&mut self, c: char) -> Result<(), SqlError> {
        if self.eat_punct(c) { Ok(()) } else { Err(self.error_here()) }
    }

    /// At the end of a statement: the text's end, `;`, or a statement keyword.
    fn at_statement_end(&self) -> bool {
        self.peek().is_none_or(|t| t.is_punct(';') || STARTS.iter().any(|kw| t.is_word(kw)))
    }

    fn word(&mut self) -> Result<String, SqlError> {
        match self.peek().map(|t| t.tok.clone()) {
            Some(Tok::Word(w)) => {
                self.i += 1;
                Ok(w)
            }
            _ => Err(self.error_here()),
        }
    }

    fn var(&mut self) -> Result<String, SqlError> {
        match self.peek().map(|t| t.tok.clone()) {
            Some(Tok::Var(v)) => {
                self.i += 1;
                Ok(v)
            }
            _ => Err(self.error_here()),
        }
    }

    fn number(&mut self) -> Result<u16, SqlError> {
        match self.peek().map(|t| t.tok.clone()) {
            Some(Tok::Number(n)) => {
                self.i += 1;
                n.parse().map_err(|_| syntax_error(&n))
            }
            _ => Err(self.error_here()),
        }
    }

    fn tran_word(&mut self) -> bool {
        self.eat_word("TRAN") || self.eat_word("TRANSACTION") || self.eat_word("WORK")
    }

    fn statement(&mut self) -> Result<Stmt, SqlError> {
        let Some(first) = self.bump() else { return Err(self.error_here()) };
        let Tok::Word(kw) = &first.tok else { return Err(syntax_error(&self.src[first.start..first.end])) };
        match kw.to_ascii_uppercase().as_str() {
            "BEGIN" if self.tran_word() => Ok(Stmt::Begin),
            "COMMIT" => Ok(self.after_tran(Stmt::Commit { if_open: false })),
            "ROLLBACK" => Ok(self.after_tran(Stmt::Rollback { if_open: false })),
            "IF" => self.if_trancount(),
            "USE" => Ok(Stmt::Use(self.word()?)),
            "SET" => Ok(self.set()),
            "DECLARE" => self.declare(),
            "EXEC" | "EXECUTE" => self.exec().map(Stmt::Exec),
            "SELECT" => Ok(self.select(first.start)),
            _ => Err(syntax_error(&self.src[first.start..first.end])),
        }
    }

    fn after_tran(&mut self, stmt: Stmt) -> Stmt {
        self.tran_word();
        stmt
    }

    /// `IF @@TRANCOUNT > 0 ROLLBACK|COMMIT [TRAN[SACTION]]`.
    fn if_trancount(&mut self) -> Result<Stmt, SqlError> {
        if !(self.var()?.eq_ignore_ascii_case("@@TRANCOUNT") && self.eat_punct('>') && self.number()? == 0) {
            return Err(self.error_here());
        }
        if self.eat_word("ROLLBACK") {
            return Ok(self.after_tran(Stmt::Rollback { if_open: true }));
        }
        if self.eat_word("COMMIT") {
            return Ok(self.after_tran(Stmt::Commit { if_open: true }));
        }
        Err(self.error_here())
    }

    fn set(&mut self) -> Stmt {
        while !self.at_statement_end() {
            self.i += 1;
        }
        Stmt::Set
    }

    fn data_type(&mut self) -> Result<ColumnType, SqlError> {
        let name = self.word()?.to_ascii_lowercase();
        let mut sizes = Vec::new();
        if self.eat_punct('(') {
            if self.eat_word("max") {
                sizes.push(4000);
            } else {
                sizes.push(self.number()?);
                if self.eat_punct(',') {
                    sizes.push(self.number()?);
                }
            }
            self.expect_punct(')')?;
        }
        let size = |i: usize, default: u16| sizes.get(i).copied().unwrap_or(default);
        Ok(match name.as_str() {
            "int" | "smallint" | "tinyint" | "bigint" | "bit" => ColumnType::Int,
            "char" | "varchar" | "nchar" | "nvarchar" => ColumnType::Text { max_chars: size(0, 1) },
            "numeric" | "decimal" => ColumnType::Decimal { precision: size(0, 18) as u8, scale: size(1, 0) as u8 },
            "datetime" | "datetime2" | "date" | "smalldatetime" => ColumnType::DateTime,
            _ => {
                return Err(SqlError {
                    number: 2715,
                    class: 16,
                    state: 3,
                    message: format!("Column, parameter, or variable #1: Cannot find data type {name}."),
                });
            }
        })
    }

    fn declare(&mut self) -> Result<Stmt, SqlError> {
        let mut vars = Vec::new();
        loop {
            let name = self.var()?.to_ascii_lowercase();
            self.eat_word("AS");
            vars.push((name, self.data_type()?));
            if !self.eat_punct(',') {
                return Ok(Stmt::Declare(vars));
            }
        }
    }

    fn expr(&mut self) -> Result<Expr, SqlError> {
        let negative = self.eat_punct('-');
        let Some(t) = self.bump() else { return Err(self.error_here()) };
        let bad = || syntax_error(&self.src[t.start..t.end]);
        Ok(match (&t.tok, negative) {
            (Tok::Var(v), false) => Expr::Var(v.to_ascii_lowercase()),
            (Tok::Str(s), false) => Expr::Lit(SqlValue::Text(s.clone())),
            (Tok::Word(w), false) if w.eq_ignore_ascii_case("NULL") => Expr::Lit(SqlValue::Null),
            (Tok::Number(n), _) => Expr::Lit(number_value(n, negative).ok_or_else(bad)?),
            _ => return Err(bad()),
        })
    }

    fn exec(&mut self) -> Result<Exec, SqlError> {
        let mut status_var = None;
        if matches!(self.peek().map(|t| &t.tok), Some(Tok::Var(_))) {
            status_var = Some(self.var()?.to_ascii_lowercase());
            self.expect_punct('=')?;
        }
        let mut procedure = self.word()?;
        while self.eat_punct('.') {
            if let Ok(part) = self.word() {
                procedure = part;
            }
        }
        let mut args = Vec::new();
        while !self.at_statement_end() {
            if !args.is_empty() {
                self.expect_punct(',')?;
            }
            let name = self.var()?;
            self.expect_punct('=')?;
            let value = self.expr()?;
            let output = self.eat_word("OUTPUT") || self.eat_word("OUT");
            args.push(Arg { name, value, output });
        }
        Ok(Exec { status_var, procedure, args })
    }

    /// `SELECT` of values only, or else a read query up to the next `;`.
    fn select(&mut self, start: usize) -> Stmt {
        let back = self.i;
        if let Some(items) = self.select_values() {
            return Stmt::SelectValues(items);
        }
        self.i = back;
        let mut end = start;
        while let Some(t) = self.peek().filter(|t| !t.is_punct(';')) {
            end = t.end;
            self.i += 1;
        }
        Stmt::Query(self.src[start..end].to_string())
    }

    fn select_values(&mut self) -> Option<Vec<(Expr, String)>> {
        let mut items = Vec::new();
        loop {
            let expr = self.expr().ok()?;
            let mut alias = String::new();
            let has_as = self.eat_word("AS");
            match self.peek().map(|t| t.tok.clone()) {
                Some(Tok::Word(w)) if has_as || !STARTS.iter().any(|k| w.eq_ignore_ascii_case(k)) => {
                    if w.eq_ignore_ascii_case("FROM") {
                        return None;
                    }
                    alias = w;
                    self.i += 1;
                }
                Some(Tok::Str(s)) => {
                    alias = s;
                    self.i += 1;
                }
                _ if has_as => return None,
                _ => {}
            }
            items.push((expr, alias));
            if !self.eat_punct(',') {
                return self.at_statement_end().then_some(items);
            }
        }
    }
}

fn number_value(text: &str, negative: bool) -> Option<SqlValue> {
    let signed = if negative { format!("-{text}") } else { text.to_string() };
    match signed.parse::<i64>() {
        Ok(n) => Some(SqlValue::Int(n)),
        Err(_) => parse_decimal(&signed),
    }
}

/// The statements of `sql`, in order (`;` between them optional).
pub fn parse(sql: &str) -> Result<Vec<Stmt>, SqlError> {
    let mut p = Parser { src: sql, toks: tokenize(sql)?, i: 0 };
    let mut out = Vec::new();
    loop {
        while p.eat_punct(';') {}
        if p.peek().is_none() {
            return Ok(out);
        }
        out.push(p.statement()?);
        if !p.at_statement_end() {
            return Err(p.error_here());
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    const WRAPPER: &str = "DECLARE @rc int, @e int, @s varchar(255); EXEC @rc = dbo.taRMApply @I_vAPTODCNM = @P1, \
        @I_vAPPTOAMT = @P2, @O_iErrorState = @e OUTPUT, @oErrString = @s OUTPUT; \
        SELECT @rc AS rc, @e AS error_state, @s AS error_string";

    #[test]
    fn the_wrapper() {
        let stmts = parse(WRAPPER).unwrap();
        assert_eq!(stmts.len(), 3);
        assert_eq!(
            stmts[0],
            Stmt::Declare(vec![
                ("@rc".into(), ColumnType::Int),
                ("@e".into(), ColumnType::Int),
                ("@s".into(), ColumnType::Text { max_chars: 255 }),
            ])
        );
        let Stmt::Exec(exec) = &stmts[1] else { panic!("{:?}", stmts[1]) };
        assert_eq!(exec.procedure, "taRMApply");
        assert_eq!(exec.status_var.as_deref(), Some("@rc"));
        assert_eq!(exec.args[1], Arg { name: "@I_vAPPTOAMT".into(), value: Expr::Var("@p2".into()), output: false });
        assert!(exec.args[3].output);
        let Stmt::SelectValues(items) = &stmts[2] else { panic!() };
        assert_eq!(items[1], (Expr::Var("@e".into()), "error_state".into()));
    }

    #[test]
    fn transaction_forms() {
        assert_eq!(parse("begin  tran").unwrap(), vec![Stmt::Begin]);
        assert_eq!(parse("BEGIN TRANSACTION;").unwrap(), vec![Stmt::Begin]);
        assert_eq!(parse("COMMIT").unwrap(), vec![Stmt::Commit { if_open: false }]);
        assert_eq!(parse("IF @@TRANCOUNT > 0 ROLLBACK TRANSACTION").unwrap(), vec![Stmt::Rollback { if_open: true }]);
        assert_eq!(parse("USE [TWO]; SET NOCOUNT ON").unwrap(), vec![Stmt::Use("TWO".into()), Stmt::Set]);
        assert_eq!(parse("BEGIN").unwrap_err().number, 102);
    }

    #[test]
    fn set_batches_and_selects() {
        let tedious =
            "set textsize 2147483647\nset quoted_identifier on\nset transaction isolation level read committed";
        assert_eq!(parse(tedious).unwrap(), vec![Stmt::Set, Stmt::Set, Stmt::Set]);
        assert_eq!(
            parse("SELECT 1").unwrap(),
            vec![Stmt::SelectValues(vec![(Expr::Lit(SqlValue::Int(1)), String::new())])]
        );
        let q = "SELECT INET1 FROM SY01200 WHERE Master_ID = @P1";
        assert_eq!(parse(&format!("{q};")).unwrap(), vec![Stmt::Query(q.into())]);
        assert_eq!(parse("DROP TABLE RM00101").unwrap_err().message, "Incorrect syntax near 'DROP'.");
        assert_eq!(parse("SET NOCOUNT ON; FOO").unwrap_err().number, 102);
    }
}
