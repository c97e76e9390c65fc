//! What /proc says about a process: CPU time and resident memory.

/// A process to read: this one or a child by PID.
#[derive(Debug, Clone, Copy)]
pub enum Process {
    /// The calling process.
    This,
    /// Another process.
    Pid(u32),
}

impl Process {
    fn path(self, file: &str) -> String {
        match self {
            Self::This => format!("/proc/self/{file}"),
            Self::Pid(pid) => format!("/proc/{pid}/{file}"),
        }
    }

    /// User plus system CPU seconds used so far (0 when unreadable).
    pub fn cpu_seconds(self) -> f64 {
        let stat = std::fs::read_to_string(self.path("stat")).unwrap_or_default();
        // Fields after the command name: utime and stime are the 12th and 13th.
        let after = stat.rsplit_once(") ").map_or("", |(_, rest)| rest);
        let fields: Vec<&str> = after.split_whitespace().collect();
        let ticks = |i: usize| {
            fields
                .get(i)
                .and_then(|f| f.parse::<f64>().ok())
                .unwrap_or(0.0)
        };
        (ticks(11) + ticks(12)) / 100.0
    }

    /// A KiB figure of /proc/<pid>/status, e.g. `VmRSS:` or `VmHWM:` (0 when unreadable).
    pub fn memory_kib(self, key: &str) -> u64 {
        std::fs::read_to_string(self.path("status"))
            .unwrap_or_default()
            .lines()
            .find_map(|l| l.strip_prefix(key))
            .and_then(|v| v.split_whitespace().next().and_then(|n| n.parse().ok()))
            .unwrap_or(0)
    }
}
