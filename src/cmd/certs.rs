//! The `certs` subcommand: writes a development CA and a serving pair signed by it (does I/O:
//! the files, and one line on standard output saying what it did).
//!
//! Existing certificates are kept: when all four files are already there, nothing is written
//! and the command succeeds saying so (so `make run` can call it every time). A partial set is
//! refused, since keeping it would pair a new key with an old certificate. `--force` replaces
//! whatever is there.

use std::fs::{self, OpenOptions};
use std::io::Write;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, SystemTime};

use anyhow::{Context, bail};

use super::output;
use crate::certs;

/// Arguments of `bgppeer-webhook certs`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// Directory to write ca.crt, ca.key, tls.crt and tls.key into (created if missing).
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
    /// DNS name of the serving certificate (repeatable). Default: localhost and
    /// bgppeer-webhook.bgppeer-webhook.svc; any --dns or --ip replaces all the defaults.
    #[arg(long = "dns", value_name = "NAME")]
    dns_names: Vec<String>,
    /// IP address of the serving certificate (repeatable). Default: 127.0.0.1; any --dns or --ip
    /// replaces all the defaults.
    #[arg(long = "ip", value_name = "IP")]
    ips: Vec<IpAddr>,
    /// How many days both certificates are valid.
    #[arg(long, default_value_t = 365, value_parser = clap::value_parser!(u32).range(1..=3650))]
    days: u32,
    /// Replace existing files. Without it, a complete existing set (ca.crt, ca.key, tls.crt and
    /// tls.key) is kept and the command succeeds; a partial set is refused.
    #[arg(long)]
    force: bool,
}

/// File names written, in order.
const FILES: [&str; 4] = ["ca.crt", "ca.key", "tls.crt", "tls.key"];

/// Runs `bgppeer-webhook certs`.
pub(crate) fn run(args: Args) -> anyhow::Result<ExitCode> {
    let mut request = certs::Request::with_defaults(
        SystemTime::now(),
        Duration::from_secs(u64::from(args.days) * 24 * 60 * 60),
    );
    if !args.dns_names.is_empty() || !args.ips.is_empty() {
        request.dns_names = args.dns_names;
        request.ips = args.ips;
    }
    if !args.force {
        let (present, missing): (Vec<&str>, Vec<&str>) =
            FILES.iter().partition(|name| args.out.join(name).exists());
        if missing.is_empty() {
            output::print(&format!(
                "kept the existing certificates in {} ({}); pass --force to replace them\n",
                args.out.display(),
                FILES.join(", ")
            ))?;
            return Ok(ExitCode::SUCCESS);
        }
        if !present.is_empty() {
            bail!(
                "{} holds {} but not {}: a partial set cannot be kept; pass --force to write a new \
                 set of all four files",
                args.out.display(),
                present.join(", "),
                missing.join(", ")
            );
        }
    }
    let generated = certs::generate(&request)?;
    fs::create_dir_all(&args.out)
        .with_context(|| format!("cannot create directory {}", args.out.display()))?;
    write(&args.out.join("ca.crt"), &generated.ca_cert_pem, false)?;
    write(&args.out.join("ca.key"), &generated.ca_key_pem, true)?;
    write(&args.out.join("tls.crt"), &generated.tls_cert_pem, false)?;
    write(&args.out.join("tls.key"), &generated.tls_key_pem, true)?;
    let names: Vec<String> = request
        .dns_names
        .iter()
        .cloned()
        .chain(request.ips.iter().map(IpAddr::to_string))
        .collect();
    output::print(&format!(
        "wrote {} (CA) and {} (serving certificate for {}, valid {} days)\n",
        args.out.join("ca.crt").display(),
        args.out.join("tls.crt").display(),
        names.join(", "),
        args.days
    ))?;
    Ok(ExitCode::SUCCESS)
}

/// Writes one file; private keys are readable by the owner only.
fn write(path: &Path, contents: &str, private: bool) -> anyhow::Result<()> {
    let mut options = OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    if private {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    #[cfg(not(unix))]
    let _ = private;
    let mut file = options
        .open(path)
        .with_context(|| format!("cannot write {}", path.display()))?;
    // `mode` applies only when the file is created: a key replaced with --force is narrowed too.
    #[cfg(unix)]
    if private {
        use std::os::unix::fs::PermissionsExt;
        file.set_permissions(fs::Permissions::from_mode(0o600))
            .with_context(|| {
                format!("cannot make {} readable by its owner only", path.display())
            })?;
    }
    file.write_all(contents.as_bytes())
        .with_context(|| format!("cannot write {}", path.display()))?;
    Ok(())
}
