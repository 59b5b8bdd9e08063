//! Development certificates: a CA and a serving certificate signed by it, generated with rcgen so
//! that no openssl is needed. Pure: returns PEM text; writing files is `bgppeer-webhook certs`'s
//! job.
//!
//! In a cluster the serving pair comes from cert-manager or the chart; these are for `make run`
//! and for tests, which need a CA to verify the server against, exactly as the kube-apiserver
//! verifies the webhook with its `caBundle`.

use std::net::{IpAddr, Ipv4Addr};
use std::time::{Duration, SystemTime};

use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose, SanType,
};
use time::OffsetDateTime;

/// The DNS names a serving certificate covers by default: local use, and the in-cluster Service
/// name the kube-apiserver dials (`<service>.<namespace>.svc`).
pub(crate) const DEFAULT_DNS_NAMES: [&str; 2] =
    ["localhost", "bgppeer-webhook.bgppeer-webhook.svc"];

/// The IP addresses a serving certificate covers by default.
pub(crate) const DEFAULT_IPS: [IpAddr; 1] = [IpAddr::V4(Ipv4Addr::LOCALHOST)];

/// What to generate.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Request {
    /// DNS subject alternative names of the serving certificate.
    pub(crate) dns_names: Vec<String>,
    /// IP subject alternative names of the serving certificate.
    pub(crate) ips: Vec<IpAddr>,
    /// Start of validity (both certificates).
    pub(crate) not_before: SystemTime,
    /// Length of validity (both certificates).
    pub(crate) valid_for: Duration,
}

impl Request {
    /// The default names, valid for `valid_for` from `now`.
    pub fn with_defaults(now: SystemTime, valid_for: Duration) -> Self {
        Self {
            dns_names: DEFAULT_DNS_NAMES
                .iter()
                .map(|name| name.to_string())
                .collect(),
            ips: DEFAULT_IPS.to_vec(),
            not_before: now,
            valid_for,
        }
    }
}

/// A CA and a serving pair signed by it, as PEM text.
#[derive(Clone, Debug)]
pub struct DevCerts {
    /// The CA certificate (`ca.crt`): what clients trust, the `caBundle` of a webhook
    /// configuration.
    pub ca_cert_pem: String,
    /// The CA private key (`ca.key`), to sign more certificates (for example mTLS clients).
    pub(crate) ca_key_pem: String,
    /// The serving certificate (`tls.crt`).
    pub tls_cert_pem: String,
    /// The serving certificate's private key (`tls.key`).
    pub tls_key_pem: String,
}

/// Why certificates could not be generated.
#[derive(Debug, thiserror::Error)]
pub enum CertsError {
    /// A requested name is not acceptable in a certificate, or signing failed.
    #[error("cannot generate the certificates: {0}")]
    Rcgen(rcgen::Error),
    /// A requested DNS name is not a valid host name.
    #[error(
        "{0:?} is not a valid DNS name: use letters, digits, '-' and '.', such as webhook.example.svc"
    )]
    BadDnsName(String),
    /// The serving certificate would have no subject alternative name, so no client could
    /// verify it.
    #[error("the serving certificate needs at least one DNS name or IP address")]
    NoNames,
}

/// rcgen's message is part of ours, so it is not also the error's `source()`.
impl From<rcgen::Error> for CertsError {
    fn from(error: rcgen::Error) -> Self {
        Self::Rcgen(error)
    }
}

/// Generates a fresh CA (ECDSA P-256) and a serving certificate signed by it.
pub fn generate(request: &Request) -> Result<DevCerts, CertsError> {
    if request.dns_names.is_empty() && request.ips.is_empty() {
        return Err(CertsError::NoNames);
    }
    for name in &request.dns_names {
        if rustls_pki_types::DnsName::try_from(name.as_str()).is_err() {
            return Err(CertsError::BadDnsName(name.clone()));
        }
    }
    let not_before = OffsetDateTime::from(request.not_before);
    let not_after = OffsetDateTime::from(request.not_before + request.valid_for);

    let ca_key = KeyPair::generate()?;
    let mut ca_params = CertificateParams::default();
    ca_params
        .distinguished_name
        .push(DnType::CommonName, "bgppeer-webhook development CA");
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    ca_params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    ca_params.not_before = not_before;
    ca_params.not_after = not_after;
    let ca_cert = ca_params.self_signed(&ca_key)?;
    let ca_cert_pem = ca_cert.pem();
    let ca_key_pem = ca_key.serialize_pem();
    let issuer = Issuer::new(ca_params, ca_key);

    let tls_key = KeyPair::generate()?;
    let mut params = CertificateParams::default();
    let common_name = request
        .dns_names
        .first()
        .cloned()
        .unwrap_or_else(|| "bgppeer-webhook".to_owned());
    params
        .distinguished_name
        .push(DnType::CommonName, common_name);
    for name in &request.dns_names {
        params
            .subject_alt_names
            .push(SanType::DnsName(name.as_str().try_into()?));
    }
    for ip in &request.ips {
        params.subject_alt_names.push(SanType::IpAddress(*ip));
    }
    params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    params.not_before = not_before;
    params.not_after = not_after;
    let tls_cert = params.signed_by(&tls_key, &issuer)?;

    Ok(DevCerts {
        ca_cert_pem,
        ca_key_pem,
        tls_cert_pem: tls_cert.pem(),
        tls_key_pem: tls_key.serialize_pem(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serving_cert_names_and_issuer() {
        let now = SystemTime::now();
        let certs = generate(&Request::with_defaults(now, Duration::from_secs(3600))).unwrap();
        let (_, pem) = x509_parser::pem::parse_x509_pem(certs.tls_cert_pem.as_bytes()).unwrap();
        let cert = pem.parse_x509().unwrap();
        let names = cert.subject_alternative_name().unwrap().unwrap();
        let rendered = format!("{:?}", names.value.general_names);
        assert!(
            rendered.contains("bgppeer-webhook.bgppeer-webhook.svc"),
            "{rendered}"
        );
        assert!(rendered.contains("localhost"), "{rendered}");
        assert!(
            cert.issuer()
                .to_string()
                .contains("bgppeer-webhook development CA")
        );
        let lifetime =
            cert.validity().not_after.timestamp() - cert.validity().not_before.timestamp();
        assert!((3599..=3601).contains(&lifetime), "{lifetime}");
    }

    #[test]
    fn needs_a_name() {
        let mut request = Request::with_defaults(SystemTime::now(), Duration::from_secs(60));
        request.dns_names.clear();
        request.ips.clear();
        assert!(matches!(generate(&request), Err(CertsError::NoNames)));
    }

    #[test]
    fn rejects_a_bad_dns_name() {
        let mut request = Request::with_defaults(SystemTime::now(), Duration::from_secs(60));
        request.dns_names = vec!["not a name".to_owned()];
        assert_eq!(
            generate(&request).unwrap_err().to_string(),
            "\"not a name\" is not a valid DNS name: use letters, digits, '-' and '.', such as webhook.example.svc"
        );
    }
}
