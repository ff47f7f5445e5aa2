//! How much memory this process may still take, so that a network or data set too large for
//! the machine is refused with one line before anything that size is allocated (Rust aborts
//! the process when an allocation fails).

/// Bytes this process may still allocate: the least of the system's available memory
/// (`MemAvailable`), the control group's limit less its use, and the address-space limit
/// (`ulimit -v`) less what the process already maps; `None` where none of them can be read.
pub fn available() -> Option<u64> {
    let limits = [
        system_available(),
        cgroup_available(),
        address_space_available(),
    ];
    limits.into_iter().flatten().min()
}

/// `MemAvailable` of `/proc/meminfo`.
fn system_available() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = text.lines().find(|l| l.starts_with("MemAvailable:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb.saturating_mul(1024))
}

/// The cgroup v2 limit (`memory.max`) less its use (`memory.current`).
fn cgroup_available() -> Option<u64> {
    let read = |name: &str| std::fs::read_to_string(format!("/sys/fs/cgroup/{name}")).ok();
    let max: u64 = read("memory.max")?.trim().parse().ok()?;
    let current: u64 = read("memory.current")?.trim().parse().ok()?;
    Some(max.saturating_sub(current))
}

/// `RLIMIT_AS` less the process's mapped size (`VmSize`); `None` where there is no limit.
pub fn address_space_available() -> Option<u64> {
    let limit = address_space_limit()?;
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmSize:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(limit.saturating_sub(kb.saturating_mul(1024)))
}

/// Whether at least `bytes` of address space is left under the limit (`ulimit -v`), found
/// without allocating: at start-up, under a limit just above what the program maps, the
/// first allocation would abort the process.
pub fn address_space_left_at_least(bytes: u64) -> bool {
    #[cfg(target_os = "linux")]
    {
        let Some(limit) = address_space_limit() else {
            return true;
        };
        let mut text = [0u8; 128];
        // SAFETY: the path is a NUL-terminated literal; `text` is a valid buffer of the length
        // passed; the descriptor is closed once read.
        let read = unsafe {
            let fd = libc::open(c"/proc/self/statm".as_ptr(), libc::O_RDONLY);
            if fd < 0 {
                return true;
            }
            let n = libc::read(fd, text.as_mut_ptr().cast(), text.len());
            libc::close(fd);
            n
        };
        let Ok(read) = usize::try_from(read) else {
            return true;
        };
        // The first field: the mapped size in pages.
        let pages = text[..read]
            .iter()
            .take_while(|b| b.is_ascii_digit())
            .fold(0u64, |n, &b| n * 10 + u64::from(b - b'0'));
        // SAFETY: sysconf only reads a configuration value.
        let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) }.max(4096) as u64;
        limit.saturating_sub(pages.saturating_mul(page)) >= bytes
    }
    #[cfg(not(target_os = "linux"))]
    {
        let _ = bytes;
        true
    }
}

/// The address-space limit (`ulimit -v`) in bytes; `None` where there is none.
pub fn address_space_limit() -> Option<u64> {
    #[cfg(unix)]
    {
        let mut limit = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        // SAFETY: `limit` is a valid out-parameter for the call.
        if unsafe { libc::getrlimit(libc::RLIMIT_AS, &mut limit) } != 0
            || limit.rlim_cur == libc::RLIM_INFINITY
        {
            return None;
        }
        // `rlim_t` is not u64 on every Unix.
        #[allow(clippy::unnecessary_cast)]
        Some(limit.rlim_cur as u64)
    }
    #[cfg(not(unix))]
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn this_machine_reports_its_memory() {
        let free = available().expect("Linux reports MemAvailable");
        assert!(free > 1 << 20, "{free}");
    }
}
