//! The use-case layer under both front ends (the CLI today, the web server next).

pub mod records;
