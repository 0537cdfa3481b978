//! Write-fault injection for the disk-full tests: with `SVFAP_FAULT_WRITE=<text>` in a
//! process's environment, every write of a session file whose name contains `<text>` fails
//! with ENOSPC, as on a full disk, so each write site's failure path can be tested where a
//! small tmpfs cannot be mounted. Unset, this is one environment lookup per file written.

use std::path::Path;

pub const VARIABLE: &str = "SVFAP_FAULT_WRITE";

/// ENOSPC when `SVFAP_FAULT_WRITE` names part of `path`'s file name.
pub fn check(path: &Path) -> std::io::Result<()> {
    let Some(wanted) = std::env::var_os(VARIABLE) else {
        return Ok(());
    };
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned());
    let wanted = wanted.to_string_lossy();
    if !wanted.is_empty() && name.is_some_and(|n| n.contains(wanted.as_ref())) {
        return Err(std::io::Error::from_raw_os_error(libc::ENOSPC));
    }
    Ok(())
}
