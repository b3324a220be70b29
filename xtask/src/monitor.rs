//! The QEMU monitor, over its Unix socket: one command, its reply.

use std::io::Write;
use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};

/// Sends one HMP command over the monitor socket and returns what the
/// monitor said, up to the prompt that follows the command's output (the
/// greeting's prompt is the first "(qemu)", the command's the second).
pub fn exchange(socket: &Path, command: &str) -> Result<String> {
    use std::io::Read;
    use std::os::unix::net::UnixStream;
    let mut stream = UnixStream::connect(socket)
        .with_context(|| format!("connecting to the monitor at {}", socket.display()))?;
    stream.set_read_timeout(Some(Duration::from_millis(200)))?;
    stream.write_all(format!("{command}\n").as_bytes())?;
    let mut reply = Vec::new();
    let mut buf = [0u8; 4096];
    let deadline = Instant::now() + Duration::from_secs(5);
    while Instant::now() < deadline && String::from_utf8_lossy(&reply).matches("(qemu)").count() < 2
    {
        match stream.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => reply.extend_from_slice(&buf[..n]),
            Err(_) => {}
        }
    }
    Ok(String::from_utf8_lossy(&reply).into_owned())
}
