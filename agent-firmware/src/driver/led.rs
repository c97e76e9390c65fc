//! The status LED: a trait, a log implementation and a Linux sysfs implementation.
//!
//! Patterns (docs/agent.md) map to the kernel's `timer` trigger: on/off times in ms.

use std::path::PathBuf;

use crate::core::LedPattern;

/// Shows a pattern.
pub trait Led: Send {
    /// Switches to `pattern`.
    fn show(&mut self, pattern: LedPattern);
}

/// On and off times of a pattern, ms; `(0, 0)` is steady on.
#[must_use]
pub fn timing(pattern: LedPattern) -> (u32, u32) {
    match pattern {
        LedPattern::Online => (0, 0),
        LedPattern::Connecting => (100, 100),
        LedPattern::Provisioning => (500, 500),
        LedPattern::Rotating => (150, 350),
        LedPattern::Fallback => (100, 1_900),
        LedPattern::Revoked => (1_000, 250),
        LedPattern::Error => (50, 50),
    }
}

/// Writes patterns to the log (devices without an LED, the lab, tests).
#[derive(Debug, Default)]
pub struct LogLed {
    /// The last pattern shown.
    pub last: Option<LedPattern>,
}

impl Led for LogLed {
    fn show(&mut self, pattern: LedPattern) {
        tracing::info!(?pattern, "led");
        self.last = Some(pattern);
    }
}

/// A Linux LED under `/sys/class/leds/<name>` driven with the `timer` trigger.
#[derive(Debug)]
pub struct SysfsLed {
    dir: PathBuf,
}

impl SysfsLed {
    /// The LED in `dir` (e.g. `/sys/class/leds/fleetid:status`).
    #[must_use]
    pub fn new(dir: PathBuf) -> Self {
        Self { dir }
    }

    fn write(&self, file: &str, value: &str) -> std::io::Result<()> {
        std::fs::write(self.dir.join(file), value)
    }

    fn apply(&self, pattern: LedPattern) -> std::io::Result<()> {
        match timing(pattern) {
            (0, 0) => {
                self.write("trigger", "none")?;
                self.write("brightness", "1")
            }
            (on, off) => {
                self.write("trigger", "timer")?;
                self.write("delay_on", &on.to_string())?;
                self.write("delay_off", &off.to_string())
            }
        }
    }
}

impl Led for SysfsLed {
    fn show(&mut self, pattern: LedPattern) {
        // An LED that cannot be set must not stop the agent: log and carry on.
        if let Err(e) = self.apply(pattern) {
            tracing::warn!(dir = %self.dir.display(), error = %e, "setting the LED");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sysfs_led_writes_the_timer_trigger() {
        let dir = tempfile::tempdir().unwrap();
        let mut led = SysfsLed::new(dir.path().to_owned());
        led.show(LedPattern::Revoked);
        let read = |f: &str| std::fs::read_to_string(dir.path().join(f)).unwrap();
        assert_eq!(read("trigger"), "timer");
        assert_eq!(read("delay_on"), "1000");
        assert_eq!(read("delay_off"), "250");
        led.show(LedPattern::Online);
        assert_eq!(read("trigger"), "none");
        assert_eq!(read("brightness"), "1");
    }
}
