pub mod facts;
pub mod roster_csv;
