//! The session's inspected videos (`inspect/<name>/`, written by `infer --inspect`) as the
//! Inspect view shows them, read on each rescan.

use std::time::SystemTime;

use crate::session::SessionDir;
use crate::session::inspection::{Inspection, InspectionDir};

#[derive(Debug, Clone)]
pub struct InspectionData {
    pub dir: InspectionDir,
    pub name: String,
    /// The record, or why it cannot be read; `None` while the worker is still scoring.
    pub record: Option<Result<Inspection, String>>,
    /// Windows (0-based) whose attention maps are written.
    pub attention: Vec<usize>,
    /// When the record was written (file time), to keep the newest first.
    pub modified: Option<SystemTime>,
}

impl InspectionData {
    pub fn inspection(&self) -> Option<&Inspection> {
        self.record.as_ref()?.as_ref().ok()
    }
}

/// Every inspection of the session, oldest first (by when its record was written; those
/// still being scored last).
pub fn read_inspections(session: &SessionDir) -> Vec<InspectionData> {
    let mut out: Vec<InspectionData> = session
        .list_inspections()
        .into_iter()
        .map(|dir| {
            let record_path = dir.record();
            let modified = std::fs::metadata(&record_path)
                .and_then(|m| m.modified())
                .ok();
            let record = record_path
                .exists()
                .then(|| dir.read().map_err(|e| e.to_string()));
            InspectionData {
                name: dir.name(),
                attention: dir.attention_windows(),
                dir,
                record,
                modified,
            }
        })
        .collect();
    out.sort_by(|a, b| {
        (a.modified.is_none(), a.modified, &a.name).cmp(&(
            b.modified.is_none(),
            b.modified,
            &b.name,
        ))
    });
    out
}
