//! The built-in rules files, embedded in the binary. One line per jurisdiction; a test
//! checks that every file in `data/` is listed and that each one loads.

use super::{LawSource, Origin};

/// (code, file text) for every built-in file, in [`super::JURISDICTIONS`] order.
pub const FILES: &[(&str, &str)] = &[
    ("AL", include_str!("data/al.toml")),
    ("AK", include_str!("data/ak.toml")),
    ("AZ", include_str!("data/az.toml")),
    ("AR", include_str!("data/ar.toml")),
    ("CA", include_str!("data/ca.toml")),
    ("CO", include_str!("data/co.toml")),
    ("CT", include_str!("data/ct.toml")),
    ("DE", include_str!("data/de.toml")),
    ("FL", include_str!("data/fl.toml")),
    ("GA", include_str!("data/ga.toml")),
    ("HI", include_str!("data/hi.toml")),
    ("ID", include_str!("data/id.toml")),
    ("IL", include_str!("data/il.toml")),
    ("IN", include_str!("data/in.toml")),
    ("IA", include_str!("data/ia.toml")),
    ("KS", include_str!("data/ks.toml")),
    ("KY", include_str!("data/ky.toml")),
    ("LA", include_str!("data/la.toml")),
    ("ME", include_str!("data/me.toml")),
    ("MD", include_str!("data/md.toml")),
    ("MA", include_str!("data/ma.toml")),
    ("MI", include_str!("data/mi.toml")),
    ("MN", include_str!("data/mn.toml")),
    ("MS", include_str!("data/ms.toml")),
    ("MO", include_str!("data/mo.toml")),
    ("MT", include_str!("data/mt.toml")),
    ("NE", include_str!("data/ne.toml")),
    ("NV", include_str!("data/nv.toml")),
    ("NH", include_str!("data/nh.toml")),
    ("NJ", include_str!("data/nj.toml")),
    ("NM", include_str!("data/nm.toml")),
    ("NY", include_str!("data/ny.toml")),
    ("NC", include_str!("data/nc.toml")),
    ("ND", include_str!("data/nd.toml")),
    ("OH", include_str!("data/oh.toml")),
    ("OK", include_str!("data/ok.toml")),
    ("OR", include_str!("data/or.toml")),
    ("PA", include_str!("data/pa.toml")),
    ("RI", include_str!("data/ri.toml")),
    ("SC", include_str!("data/sc.toml")),
    ("SD", include_str!("data/sd.toml")),
    ("TN", include_str!("data/tn.toml")),
    ("TX", include_str!("data/tx.toml")),
    ("UT", include_str!("data/ut.toml")),
    ("VT", include_str!("data/vt.toml")),
    ("VA", include_str!("data/va.toml")),
    ("WA", include_str!("data/wa.toml")),
    ("WV", include_str!("data/wv.toml")),
    ("WI", include_str!("data/wi.toml")),
    ("WY", include_str!("data/wy.toml")),
    ("DC", include_str!("data/dc.toml")),
    ("PR", include_str!("data/pr.toml")),
    ("VI", include_str!("data/vi.toml")),
    ("GU", include_str!("data/gu.toml")),
];

/// The built-in files as sources for [`super::LawSet::build`].
pub fn sources() -> Vec<LawSource> {
    FILES
        .iter()
        .map(|(code, text)| LawSource {
            origin: Origin::BuiltIn,
            name: format!("built-in {}.toml", code.to_ascii_lowercase()),
            text: (*text).to_string(),
        })
        .collect()
}
