//! The console's messages on stderr. This is the one module that writes there (the crate denies
//! `eprint!`/`eprintln!` elsewhere), and everything it writes is [`SafeText`], apart from its
//! own line-erasing sequence: an AWS error or a device string quoted in a message cannot drive
//! the terminal.

use std::io::{self, Write};

use crate::safe_text::SafeText;

/// Erases the terminal line the cursor is on and returns to its start.
const ERASE_LINE: &str = "\r\x1b[2K";

/// Writes `line` and a line break.
pub fn line(line: &SafeText<'_>) {
    let mut stderr = io::stderr().lock();
    let _ = writeln!(stderr, "{line}");
}

/// Writes every line of `text`, each cleaned on its own: for messages whose line breaks are
/// meant.
pub fn lines(text: &str) {
    let mut stderr = io::stderr().lock();
    for line in SafeText::lines(text) {
        let _ = writeln!(stderr, "{line}");
    }
}

/// `fleetid: ` and `message`, as one line.
pub fn message(message: &str) {
    line(&SafeText::from_string(format!("fleetid: {message}")));
}

/// An empty line.
pub fn blank() {
    let _ = writeln!(io::stderr().lock());
}

/// Replaces the terminal line under the cursor with `status` (progress on a terminal).
pub fn progress(status: &SafeText<'_>) {
    let mut stderr = io::stderr().lock();
    let _ = write!(stderr, "{ERASE_LINE}{status}");
    let _ = stderr.flush();
}

/// Erases a progress line.
pub fn clear_progress() {
    let mut stderr = io::stderr().lock();
    let _ = write!(stderr, "{ERASE_LINE}");
    let _ = stderr.flush();
}
