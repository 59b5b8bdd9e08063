//! Where the offline commands write (does I/O: the process's standard output and error).
//!
//! A report goes to standard output in one write. When the reader has gone away
//! (`bgppeer-webhook check -o json dir/ | head -1`), the write fails with a broken pipe: that is
//! not an error, the rest of the report is dropped and the command ends quietly with the exit
//! code of its verdict. Rust ignores SIGPIPE, so without this every `println!` would panic with
//! `failed printing to stdout: Broken pipe` and exit 101.
//!
//! Messages for people go to standard error and are best effort: a closed standard error loses
//! them, it never stops the command.

use std::io::{self, Write};

/// Writes `text` to standard output and flushes it; a closed pipe is success (see the module
/// documentation). Any other write error is returned, in plain words.
pub(crate) fn print(text: &str) -> anyhow::Result<()> {
    write_report(&mut io::stdout().lock(), text.as_bytes())
}

/// Writes `line` and a newline to standard error, ignoring a failure to write.
pub(crate) fn eprint_line(line: &str) {
    let mut stderr = io::stderr().lock();
    let _ = stderr
        .write_all(line.as_bytes())
        .and_then(|()| stderr.write_all(b"\n"));
}

/// Writes all of `bytes` to `out` and flushes it; a broken pipe is success.
fn write_report(out: &mut impl Write, bytes: &[u8]) -> anyhow::Result<()> {
    match out.write_all(bytes).and_then(|()| out.flush()) {
        Ok(()) => Ok(()),
        Err(err) if err.kind() == io::ErrorKind::BrokenPipe => Ok(()),
        Err(err) => Err(anyhow::anyhow!("cannot write to standard output: {err}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A writer that fails every write with one kind of error.
    struct Failing(io::ErrorKind);

    impl Write for Failing {
        fn write(&mut self, _: &[u8]) -> io::Result<usize> {
            Err(io::Error::from(self.0))
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn a_closed_pipe_is_success_other_errors_are_reported() {
        assert!(write_report(&mut Failing(io::ErrorKind::BrokenPipe), b"report").is_ok());
        let err = write_report(&mut Failing(io::ErrorKind::StorageFull), b"report").unwrap_err();
        assert_eq!(
            err.to_string(),
            "cannot write to standard output: no storage space"
        );
        let mut out = Vec::new();
        write_report(&mut out, b"report\n").unwrap();
        assert_eq!(out, b"report\n");
    }
}
