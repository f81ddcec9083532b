//! Microsoft Dynamics GP emulator (see README.md).

pub mod codec;
pub mod date;
pub mod db;
pub mod faults;
pub mod model;
pub mod money;
pub mod node;
pub mod ntlm;
pub mod objects;
pub mod rules;
pub mod schema;
pub mod service;
pub mod xmldom;
