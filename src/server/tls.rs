//! TLS: loading and checking the serving pair, the swappable certificate resolver, and the
//! rustls server configuration (explicit ring provider, TLS 1.2 and 1.3 only, ALPN h2 and
//! http/1.1, optional client-certificate verification).

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::{Arc, PoisonError, RwLock};
use std::time::SystemTime;

use rustls::crypto::CryptoProvider;
use rustls::server::danger::ClientCertVerifier;
use rustls::server::{ClientHello, ResolvesServerCert, WebPkiClientVerifier};
use rustls::sign::CertifiedKey;
use rustls::{RootCertStore, ServerConfig};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};

/// The crypto provider every TLS object here uses: ring, chosen explicitly so that no other
/// provider linked into the binary can be picked up by accident.
pub(crate) fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// The protocols offered with ALPN, in order of preference. The kube-apiserver (Go) picks h2.
pub(crate) const ALPN_PROTOCOLS: [&[u8]; 2] = [b"h2", b"http/1.1"];

/// Why a certificate, key or CA file cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    /// The file cannot be read.
    #[error("cannot read {path}: {error}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The I/O error (part of the message, so not also the error's `source()`).
        error: std::io::Error,
    },
    /// The file holds no PEM item of the expected type, or a malformed one.
    #[error("{path} holds no usable {what} in PEM format ({detail})")]
    Pem {
        /// The file.
        path: PathBuf,
        /// What was expected (`certificate`, `private key`).
        what: &'static str,
        /// What the PEM parser said.
        detail: String,
    },
    /// The private key does not belong to the certificate.
    #[error("the private key in {key} does not match the certificate in {cert}")]
    Mismatch {
        /// The certificate file.
        cert: PathBuf,
        /// The key file.
        key: PathBuf,
    },
    /// rustls cannot use the key with the certificate, or cannot tell whether they match.
    #[error("the private key in {key} cannot be used with the certificate in {cert}: {detail}")]
    KeyUnusable {
        /// The certificate file.
        cert: PathBuf,
        /// The key file.
        key: PathBuf,
        /// Why, in words.
        detail: String,
    },
    /// The certificate cannot be parsed as X.509.
    #[error("the first certificate in {path} is not valid X.509: {detail}")]
    X509 {
        /// The certificate file.
        path: PathBuf,
        /// What the parser said.
        detail: String,
    },
    /// The certificate is outside its validity period.
    #[error(
        "the certificate in {path} is valid from {not_before} to {not_after} (Unix seconds), not now"
    )]
    NotValidNow {
        /// The certificate file.
        path: PathBuf,
        /// Start of validity.
        not_before: i64,
        /// End of validity.
        not_after: i64,
    },
    /// The client CA bundle cannot build a verifier.
    #[error("cannot verify client certificates with the CAs in {path}: {detail}")]
    ClientCa {
        /// The CA file.
        path: PathBuf,
        /// What rustls said.
        detail: String,
    },
    /// rustls rejected the configuration (protocol versions).
    #[error("cannot configure TLS: {0}")]
    Config(rustls::Error),
}

/// A serving pair that has been read, parsed and checked.
#[derive(Debug, Clone)]
pub(crate) struct LoadedPair {
    /// The chain and signing key, ready for rustls.
    pub(crate) key: Arc<CertifiedKey>,
    /// End of validity of the leaf certificate (Unix seconds).
    pub(crate) not_after: i64,
    /// The raw file contents, to notice when the files change.
    pub(crate) source: PairSource,
}

/// The raw bytes of a certificate and key file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PairSource {
    /// The certificate file's bytes.
    pub(crate) cert: Vec<u8>,
    /// The key file's bytes.
    pub(crate) key: Vec<u8>,
}

impl PairSource {
    /// Reads both files.
    pub(crate) fn read(cert_path: &Path, key_path: &Path) -> Result<Self, TlsError> {
        Ok(Self {
            cert: read(cert_path)?,
            key: read(key_path)?,
        })
    }
}

/// Parses and checks a serving pair: the chain parses, the key parses, the key belongs to the
/// leaf certificate and the leaf is valid at `now`.
pub(crate) fn load_pair(
    source: PairSource,
    cert_path: &Path,
    key_path: &Path,
    now: SystemTime,
) -> Result<LoadedPair, TlsError> {
    let chain = parse_certificates(&source.cert, cert_path)?;
    let key = PrivateKeyDer::from_pem_slice(&source.key).map_err(|err| TlsError::Pem {
        path: key_path.to_owned(),
        what: "private key",
        detail: err.to_string(),
    })?;
    let (not_before, not_after) = validity(&chain[0], cert_path)?;
    let mismatch = |error| key_error(error, cert_path, key_path);
    let certified = CertifiedKey::from_der(chain, key, &provider()).map_err(mismatch)?;
    certified.keys_match().map_err(mismatch)?;
    let now = unix_seconds(now);
    if now < not_before || now > not_after {
        return Err(TlsError::NotValidNow {
            path: cert_path.to_owned(),
            not_before,
            not_after,
        });
    }
    Ok(LoadedPair {
        key: Arc::new(certified),
        not_after,
        source,
    })
}

/// The certificate resolver the TLS configuration uses: always hands out the current pair, which
/// the reloader replaces atomically. Handshakes in progress keep the pair they started with.
#[derive(Debug)]
pub(crate) struct SwappableResolver {
    current: RwLock<Arc<CertifiedKey>>,
}

impl SwappableResolver {
    /// A resolver serving `key`.
    pub(crate) fn new(key: Arc<CertifiedKey>) -> Self {
        Self {
            current: RwLock::new(key),
        }
    }

    /// Serves `key` from the next handshake on.
    pub(crate) fn swap(&self, key: Arc<CertifiedKey>) {
        *self.current.write().unwrap_or_else(PoisonError::into_inner) = key;
    }

    /// The pair served now.
    pub(crate) fn current(&self) -> Arc<CertifiedKey> {
        self.current
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

impl ResolvesServerCert for SwappableResolver {
    fn resolve(&self, _client_hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(self.current())
    }
}

/// Builds a verifier that requires a client certificate signed by one of the CAs in `path`.
pub(crate) fn client_verifier(path: &Path) -> Result<Arc<dyn ClientCertVerifier>, TlsError> {
    let bytes = read(path)?;
    let mut roots = RootCertStore::empty();
    for cert in parse_certificates(&bytes, path)? {
        roots.add(cert).map_err(|err| TlsError::ClientCa {
            path: path.to_owned(),
            detail: err.to_string(),
        })?;
    }
    WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider())
        .build()
        .map_err(|err| TlsError::ClientCa {
            path: path.to_owned(),
            detail: err.to_string(),
        })
}

/// The server configuration: TLS 1.3 and 1.2, ALPN h2 and http/1.1, certificates from
/// `resolver`, client certificates required when a verifier is given.
pub(crate) fn server_config(
    resolver: Arc<SwappableResolver>,
    client_verifier: Option<Arc<dyn ClientCertVerifier>>,
) -> Result<ServerConfig, TlsError> {
    let builder = ServerConfig::builder_with_provider(provider())
        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
        .map_err(TlsError::Config)?;
    let builder = match client_verifier {
        Some(verifier) => builder.with_client_cert_verifier(verifier),
        None => builder.with_no_client_auth(),
    };
    let mut config = builder.with_cert_resolver(resolver);
    config.alpn_protocols = ALPN_PROTOCOLS.iter().map(|p| p.to_vec()).collect();
    Ok(config)
}

/// Seconds since the Unix epoch (negative before it).
pub(crate) fn unix_seconds(time: SystemTime) -> i64 {
    match time.duration_since(SystemTime::UNIX_EPOCH) {
        Ok(after) => i64::try_from(after.as_secs()).unwrap_or(i64::MAX),
        Err(before) => -i64::try_from(before.duration().as_secs()).unwrap_or(i64::MAX),
    }
}

fn read(path: &Path) -> Result<Vec<u8>, TlsError> {
    fs::read(path).map_err(|error| TlsError::Read {
        path: path.to_owned(),
        error,
    })
}

/// What rustls said about a certificate and key that do not go together, in words.
fn key_error(error: rustls::Error, cert: &Path, key: &Path) -> TlsError {
    let (cert, key) = (cert.to_owned(), key.to_owned());
    match error {
        rustls::Error::InconsistentKeys(rustls::InconsistentKeys::KeyMismatch) => {
            TlsError::Mismatch { cert, key }
        }
        rustls::Error::InconsistentKeys(rustls::InconsistentKeys::Unknown) => {
            TlsError::KeyUnusable {
                cert,
                key,
                detail: "its public key cannot be derived to check that they match".to_owned(),
            }
        }
        rustls::Error::General(detail) => TlsError::KeyUnusable { cert, key, detail },
        other => TlsError::KeyUnusable {
            cert,
            key,
            detail: other.to_string(),
        },
    }
}

fn parse_certificates(bytes: &[u8], path: &Path) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let pem_error = |detail: String| TlsError::Pem {
        path: path.to_owned(),
        what: "certificate",
        detail,
    };
    let chain = CertificateDer::pem_slice_iter(bytes)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|err| pem_error(err.to_string()))?;
    if chain.is_empty() {
        return Err(pem_error("no CERTIFICATE block found".to_owned()));
    }
    Ok(chain)
}

fn validity(leaf: &CertificateDer<'_>, path: &Path) -> Result<(i64, i64), TlsError> {
    let (_, cert) =
        x509_parser::parse_x509_certificate(leaf.as_ref()).map_err(|err| TlsError::X509 {
            path: path.to_owned(),
            detail: err.to_string(),
        })?;
    let validity = cert.validity();
    Ok((
        validity.not_before.timestamp(),
        validity.not_after.timestamp(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::certs;
    use std::time::Duration;

    fn pair() -> (certs::DevCerts, SystemTime) {
        let now = SystemTime::now();
        let generated = certs::generate(&certs::Request::with_defaults(
            now,
            Duration::from_secs(600),
        ))
        .unwrap();
        (generated, now)
    }

    fn source(cert: &str, key: &str) -> PairSource {
        PairSource {
            cert: cert.as_bytes().to_vec(),
            key: key.as_bytes().to_vec(),
        }
    }

    #[test]
    fn loads_a_matching_pair() {
        let (generated, now) = pair();
        let loaded = load_pair(
            source(&generated.tls_cert_pem, &generated.tls_key_pem),
            Path::new("tls.crt"),
            Path::new("tls.key"),
            now,
        )
        .unwrap();
        assert!(loaded.not_after > unix_seconds(now));
    }

    #[test]
    fn refuses_a_key_of_another_certificate() {
        let (first, now) = pair();
        let (second, _) = pair();
        let err = load_pair(
            source(&first.tls_cert_pem, &second.tls_key_pem),
            Path::new("tls.crt"),
            Path::new("tls.key"),
            now,
        )
        .unwrap_err();
        assert!(matches!(err, TlsError::Mismatch { .. }), "{err}");
        assert_eq!(
            err.to_string(),
            "the private key in tls.key does not match the certificate in tls.crt"
        );
    }

    #[test]
    fn refuses_garbage_and_expired() {
        let (generated, now) = pair();
        let err = load_pair(
            source("not pem", &generated.tls_key_pem),
            Path::new("tls.crt"),
            Path::new("tls.key"),
            now,
        )
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "tls.crt holds no usable certificate in PEM format (no CERTIFICATE block found)"
        );
        let err = load_pair(
            source(&generated.tls_cert_pem, "garbage"),
            Path::new("tls.crt"),
            Path::new("tls.key"),
            now,
        )
        .unwrap_err();
        assert!(
            matches!(
                err,
                TlsError::Pem {
                    what: "private key",
                    ..
                }
            ),
            "{err}"
        );
        let err = load_pair(
            source(&generated.tls_cert_pem, &generated.tls_key_pem),
            Path::new("tls.crt"),
            Path::new("tls.key"),
            now + Duration::from_secs(3600),
        )
        .unwrap_err();
        assert!(matches!(err, TlsError::NotValidNow { .. }), "{err}");
    }
}
