//! placeholder (being written)
pub mod env;
