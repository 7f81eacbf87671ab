pub mod roster_csv;
