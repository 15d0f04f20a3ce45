//! What Linux's `/proc` says of a running process. `None` where it cannot be
//! read (another system, or the process is gone).

/// Resident memory, in KiB.
pub fn rss_kib(pid: u32) -> Option<u64> {
    status_field(pid, "VmRSS:")
}

/// How many threads the process has.
pub fn threads(pid: u32) -> Option<u64> {
    status_field(pid, "Threads:")
}

/// How many file descriptors (sockets included) the process has open.
pub fn open_files(pid: u32) -> Option<usize> {
    let entries = std::fs::read_dir(format!("/proc/{pid}/fd")).ok()?;
    Some(entries.count())
}

/// The soft and hard limits on open files, as `/proc/PID/limits` writes them.
pub fn open_files_limits(pid: u32) -> Option<(String, String)> {
    let limits = std::fs::read_to_string(format!("/proc/{pid}/limits")).ok()?;
    let line = limits
        .lines()
        .find(|line| line.starts_with("Max open files"))?;
    let fields: Vec<&str> = line.split_whitespace().collect();
    Some((fields.get(3)?.to_string(), fields.get(4)?.to_string()))
}

fn status_field(pid: u32, name: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|line| line.starts_with(name))?;
    line.split_whitespace().nth(1)?.parse().ok()
}
