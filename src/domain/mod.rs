//! Plain domain types shared by every layer. No I/O, no storage encodings.

pub mod counts;
pub mod facts;
pub mod incident;
pub mod notice;
pub mod org;
pub mod roster;
pub mod staff;
pub mod vocab;

pub use counts::{CountSource, Counts};
pub use facts::*;
pub use incident::{Incident, IncidentId, IncidentStatus, TimelineEntry};
pub use notice::{NoticeMethod, NoticeRecord, ObligationKind};
pub use org::{BusinessDays, LePolicy, Organization, Role};
pub use roster::RosterRow;
pub use staff::{Permission, StaffRole};
