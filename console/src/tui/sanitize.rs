//! Device-supplied text reaches the terminal only through the console's one sanitizer
//! (`render::sanitize`): no escape sequences, no control characters, no bidi overrides.

pub use crate::render::{REPLACEMENT, sanitize as clean};
