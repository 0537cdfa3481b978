//! FFmpeg's own logging, silenced and routed into ours: FFmpeg never writes to the terminal;
//! its warnings and errors are kept per thread so a decode error can quote them (e.g.
//! "moov atom not found"), and are printed only when `SVFAP_FFMPEG_LOG=1`.

use std::cell::RefCell;
use std::ffi::{CStr, c_char, c_int, c_void};
use std::sync::Once;

use ffmpeg_next::ffi;

const KEEP: usize = 16;

thread_local! {
    static MESSAGES: RefCell<Vec<String>> = const { RefCell::new(Vec::new()) };
}

unsafe extern "C" fn callback(
    avcl: *mut c_void,
    level: c_int,
    fmt: *const c_char,
    vl: *mut ffi::__va_list_tag,
) {
    if level > ffi::AV_LOG_WARNING as c_int {
        return;
    }
    let mut buf = [0 as c_char; 1024];
    let mut prefix: c_int = 1;
    // SAFETY: FFmpeg hands us a valid format string and va_list; the buffer is ours.
    let line = unsafe {
        ffi::av_log_format_line2(
            avcl,
            level,
            fmt,
            vl,
            buf.as_mut_ptr(),
            buf.len() as c_int,
            &mut prefix,
        );
        CStr::from_ptr(buf.as_ptr())
            .to_string_lossy()
            .trim()
            .to_string()
    };
    if line.is_empty() {
        return;
    }
    if std::env::var_os("SVFAP_FFMPEG_LOG").is_some_and(|v| v == "1") {
        eprintln!("ffmpeg: {line}");
    }
    MESSAGES.with(|m| {
        let mut m = m.borrow_mut();
        if m.len() == KEEP {
            m.remove(0);
        }
        m.push(line);
    });
}

/// Initialises FFmpeg once and installs the log callback.
pub fn init() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let _ = ffmpeg_next::init();
        // SAFETY: installing a process-wide callback with the signature FFmpeg expects.
        unsafe { ffi::av_log_set_callback(Some(callback)) };
    });
}

/// Clears this thread's captured messages.
pub fn clear() {
    MESSAGES.with(|m| m.borrow_mut().clear());
}

/// Takes this thread's captured FFmpeg warnings and errors (oldest first).
pub fn take() -> Vec<String> {
    MESSAGES.with(|m| std::mem::take(&mut *m.borrow_mut()))
}

/// The captured messages joined for an error text, or `fallback` when there are none.
pub fn take_joined(fallback: &str) -> String {
    let msgs = take();
    if msgs.is_empty() {
        return fallback.to_string();
    }
    let mut uniq: Vec<String> = Vec::new();
    for m in msgs {
        if !uniq.contains(&m) {
            uniq.push(m);
        }
    }
    format!("{fallback}: {}", uniq.join("; "))
}
