//! What the shared SQL code needs of a sqlx database, said once.
//!
//! Generic sqlx code normally repeats a dozen where-clauses (`String: Encode<DB> + Type<DB>`,
//! `for<'c> &'c mut DB::Connection: Executor<'c>`, …) on every function and impl, because Rust
//! carries only bounds whose subject is the type itself from a trait to its users. So each need
//! is turned around to have the database as subject — `DB: Binds<i64>`, `DB: Reads<String>` —
//! proved by a blanket impl here, and gathered as supertraits of [`Driver`]; the shared code
//! then says only `DB: Dialect` and binds with [`QueryExt::arg`] / [`BuilderExt::push_arg`]
//! and reads with [`RowExt::col`]. A type the schema starts to use is added to [`Driver`].
//! What is not generic in sqlx at all — a pool or connection as an executor, a result's row
//! count — each backend states in a line (`Driver`, [`RowsAffected`]).

use sqlx::query::Query;
use sqlx::{ColumnIndex, Database, Decode, Encode, Executor, IntoArguments, Pool, QueryBuilder, Row, Type};

/// `DB` can bind a `T` as a query parameter.
pub trait Binds<T>: Database {
    fn bind(query: Query<'_, Self, Self::Arguments>, value: T) -> Query<'_, Self, Self::Arguments>;
    fn push_bind(builder: &mut QueryBuilder<Self>, value: T);
}

// `'t` is the lifetime the encoding may borrow for; any one will do (`Option<&'a str>` encodes
// only for `'t` within `'a`), hence a parameter of the impl and not `for<'t>`.
impl<'t, DB: Database, T> Binds<T> for DB
where
    T: Encode<'t, DB> + Type<DB>,
{
    fn bind(query: Query<'_, DB, DB::Arguments>, value: T) -> Query<'_, DB, DB::Arguments> {
        query.bind(value)
    }
    fn push_bind(builder: &mut QueryBuilder<DB>, value: T) {
        builder.push_bind(value);
    }
}

/// `DB` can read a `T` from a column of its rows, by name.
pub trait Reads<T>: Database {
    fn read(row: &Self::Row, column: &str) -> sqlx::Result<T>;
}

impl<DB: Database, T> Reads<T> for DB
where
    T: for<'r> Decode<'r, DB> + Type<DB>,
    for<'a> &'a str: ColumnIndex<DB::Row>,
{
    fn read(row: &DB::Row, column: &str) -> sqlx::Result<T> {
        row.try_get(column)
    }
}

/// Every capability the shared code uses: the parameter and column types of the schema, and
/// pools and connections as executors.
pub trait Driver:
    Database<Arguments: IntoArguments<Self>, QueryResult: RowsAffected>
    + Binds<i32>
    + Binds<i64>
    + Binds<Option<i64>>
    + for<'a> Binds<&'a str>
    + for<'a> Binds<Option<&'a str>>
    + for<'a> Binds<&'a [u8]>
    + Reads<i32>
    + Reads<i64>
    + Reads<Option<i64>>
    + Reads<String>
    + Reads<Option<String>>
    + Reads<Vec<u8>>
    + Reads<Option<Vec<u8>>>
{
    /// The pool as an executor (each backend's body is just `pool`: the bound that makes it one
    /// is known for the concrete database only).
    fn on_pool(pool: &Pool<Self>) -> impl Executor<'_, Database = Self>;
    /// A connection, or a transaction (`&mut *tx`), as an executor.
    fn on_conn(conn: &mut Self::Connection) -> impl Executor<'_, Database = Self>;
}

/// How many rows a statement changed (each driver's `QueryResult` has it, as its own method).
pub trait RowsAffected {
    fn rows_affected(&self) -> u64;
}

/// [`Binds`] as a method of a query, next to sqlx's own `bind`.
pub trait QueryExt<DB: Database>: Sized {
    fn arg<T>(self, value: T) -> Self
    where
        DB: Binds<T>;
}

impl<'q, DB: Database> QueryExt<DB> for Query<'q, DB, DB::Arguments> {
    fn arg<T>(self, value: T) -> Self
    where
        DB: Binds<T>,
    {
        DB::bind(self, value)
    }
}

/// [`Binds`] as a method of a query builder.
pub trait BuilderExt<DB: Database> {
    fn push_arg<T>(&mut self, value: T) -> &mut Self
    where
        DB: Binds<T>;
}

impl<DB: Database> BuilderExt<DB> for QueryBuilder<DB> {
    fn push_arg<T>(&mut self, value: T) -> &mut Self
    where
        DB: Binds<T>,
    {
        DB::push_bind(self, value);
        self
    }
}

/// [`Reads`] as a method of a row.
pub trait RowExt: Row {
    fn col<T>(&self, column: &str) -> sqlx::Result<T>
    where
        Self::Database: Reads<T> + Database<Row = Self>;
}

impl<R: Row> RowExt for R {
    fn col<T>(&self, column: &str) -> sqlx::Result<T>
    where
        R::Database: Reads<T> + Database<Row = R>,
    {
        <R::Database as Reads<T>>::read(self, column)
    }
}
