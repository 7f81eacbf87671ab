//! Roster import, stats, purge, rekey: the real binary against temporary databases.
