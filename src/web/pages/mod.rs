//! The pages, one file per area: handlers (extractors → desk request → desk call →
//! response) and the views they render. Only declarations here.

pub mod assess;
pub mod audit;
pub mod dashboard;
pub mod exercise;
pub mod incidents;
pub mod letters;
pub mod notices;
pub mod roster;
pub mod rules;
pub mod users;
pub mod widgets;
