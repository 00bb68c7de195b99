//! The run's settings, read from a host file through semihosting (`SYS_OPEN`/`SYS_READ`).

use cortex_m_semihosting::syscall;

/// Reads the host file `name` (NUL-terminated) into `buf`; returns the bytes read.
pub fn read_file(name: &[u8], buf: &mut [u8]) -> Option<usize> {
    if name.last() != Some(&0) {
        return None;
    }
    // SAFETY: semihosting calls with valid pointers and lengths; QEMU is the debugger.
    unsafe {
        let fd = syscall!(OPEN, name.as_ptr(), 0usize, name.len() - 1) as isize;
        if fd < 0 {
            return None;
        }
        let left = syscall!(READ, fd as usize, buf.as_mut_ptr(), buf.len());
        syscall!(CLOSE, fd as usize);
        if left > buf.len() {
            return None;
        }
        Some(buf.len() - left)
    }
}

/// `name=value` lines.
pub struct Settings<'a>(pub &'a str);

impl<'a> Settings<'a> {
    /// The value of `name`, if given.
    pub fn get(&self, name: &str) -> Option<&'a str> {
        self.0.lines().find_map(|l| {
            let (k, v) = l.split_once('=')?;
            (k.trim() == name).then(|| v.trim())
        })
    }

    /// A number, or `default`.
    pub fn num(&self, name: &str, default: u64) -> u64 {
        self.get(name)
            .and_then(|v| v.parse().ok())
            .unwrap_or(default)
    }
}
