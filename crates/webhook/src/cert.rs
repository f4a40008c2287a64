//! `kubectl vllm webhook cert`: a self-signed CA and a serving certificate for the webhook's
//! Service, for clusters without cert-manager. The CA's key is never written: nothing else can be
//! signed with it, and renewing means running `webhook cert` again (a new CA, so a new
//! `caBundle` in the manifests).

use std::path::Path;

use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DnType, ExtendedKeyUsagePurpose, IsCa,
    KeyPair, KeyUsagePurpose, SanType,
};

/// The files `webhook cert` writes into its directory.
pub const CA_FILE: &str = "ca.crt";
/// The serving certificate (PEM).
pub const CERT_FILE: &str = "tls.crt";
/// The serving certificate's private key (PEM, PKCS#8).
pub const KEY_FILE: &str = "tls.key";

/// What the certificate is for.
#[derive(Debug, Clone)]
pub struct Request {
    /// The Service's name.
    pub service: String,
    /// Its namespace.
    pub namespace: String,
    /// More DNS names or IP addresses the certificate should hold.
    pub extra_names: Vec<String>,
    /// Days both certificates are valid.
    pub days: u32,
}

impl Request {
    /// Every name the API server may use for the Service, then the extra ones.
    #[must_use]
    pub fn names(&self) -> Vec<String> {
        let (s, ns) = (&self.service, &self.namespace);
        let mut names = vec![
            format!("{s}.{ns}.svc"),
            format!("{s}.{ns}.svc.cluster.local"),
            format!("{s}.{ns}"),
            s.clone(),
        ];
        names.extend(self.extra_names.iter().cloned());
        names
    }
}

/// A CA and a serving certificate signed by it, all PEM.
#[derive(Debug, Clone)]
pub struct Issued {
    /// The CA certificate: the `caBundle`.
    pub ca: String,
    /// The serving certificate.
    pub cert: String,
    /// Its key.
    pub key: String,
}

/// Makes the CA and the serving certificate.
pub fn issue(request: &Request) -> Result<Issued, String> {
    let error = |e: rcgen::Error| e.to_string();
    let now = time::OffsetDateTime::now_utc();
    let until = now + time::Duration::days(i64::from(request.days));
    let mut ca = CertificateParams::new(Vec::<String>::new()).map_err(error)?;
    ca.distinguished_name.push(
        DnType::CommonName,
        format!("kubectl-vllm webhook CA ({})", request.namespace),
    );
    ca.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    ca.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    (ca.not_before, ca.not_after) = (now, until);
    let ca =
        CertifiedIssuer::self_signed(ca, KeyPair::generate().map_err(error)?).map_err(error)?;
    let names = request.names();
    let mut serving = CertificateParams::new(Vec::<String>::new()).map_err(error)?;
    for name in &names {
        serving.subject_alt_names.push(match name.parse() {
            Ok(ip) => SanType::IpAddress(ip),
            Err(_) => SanType::DnsName(name.clone().try_into().map_err(error)?),
        });
    }
    serving
        .distinguished_name
        .push(DnType::CommonName, names[0].clone());
    serving.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    serving.key_usages = vec![
        KeyUsagePurpose::DigitalSignature,
        KeyUsagePurpose::KeyEncipherment,
    ];
    (serving.not_before, serving.not_after) = (now, until);
    let key = KeyPair::generate().map_err(error)?;
    let cert = serving.signed_by(&key, &ca).map_err(error)?;
    Ok(Issued {
        ca: ca.pem(),
        cert: cert.pem(),
        key: key.serialize_pem(),
    })
}

/// Writes the three files into `dir` (made if missing); the key readable by its owner only.
pub fn write(issued: &Issued, dir: &Path) -> Result<(), String> {
    let at = |name: &str| dir.join(name);
    std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    for (name, text) in [
        (CA_FILE, &issued.ca),
        (CERT_FILE, &issued.cert),
        (KEY_FILE, &issued.key),
    ] {
        std::fs::write(at(name), text).map_err(|e| format!("{}: {e}", at(name).display()))?;
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(at(KEY_FILE), std::fs::Permissions::from_mode(0o600))
            .map_err(|e| format!("{}: {e}", at(KEY_FILE).display()))?;
    }
    Ok(())
}
