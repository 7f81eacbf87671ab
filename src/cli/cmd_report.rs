//! `report ID --html`: the incident dossier, one self-contained HTML file for the file or a
//! regulator (164.414(b): the burden of proof).

use std::path::PathBuf;

use super::args::ReportArgs;
use super::context::Ctx;
use super::output::print_json;
use crate::audit::entry::hex;
use crate::error::{Error, Result};

pub fn report(ctx: &Ctx, a: ReportArgs) -> Result<i32> {
    if !a.html {
        return Err(Error::invalid("the dossier is written as HTML: add --html"));
    }
    let office = ctx.open()?;
    let d = ctx.desk(&office).dossier(&a.id, a.audit_entries)?;
    let out = a
        .out
        .clone()
        .unwrap_or_else(|| PathBuf::from(format!("{}-dossier.html", d.incident)));
    // The dossier holds PHI (the narrative, timeline notes): owner-only, never over a file.
    crate::files::write_output(&out, d.html.as_bytes(), true, a.force)?;
    if ctx.json {
        print_json(&serde_json::json!({
            "out": out,
            "intact": d.intact,
            "head_seq": d.head_seq,
            "head_hash": hex(&d.head_hash),
        }))?;
    } else {
        println!(
            "dossier for {} written to {} (audit trail {}, head {})",
            d.incident,
            out.display(),
            if d.intact { "intact" } else { "DAMAGED" },
            d.head_seq
        );
    }
    Ok(0)
}
