/**
 * Where each distribution keeps the system's bundle of trusted CA certificates, the file curl,
 * wget and `openssl s_client` verify against (Go's crypto/x509 root_linux.go lists the same):
 * whyport trusts what the machine's other clients trust, not node's bundled copy of Mozilla's list.
 */
export const SYSTEM_CA_BUNDLES: readonly string[] = [
  '/etc/ssl/certs/ca-certificates.crt', // Debian, Ubuntu, Gentoo, Arch (ca-certificates)
  '/etc/pki/tls/certs/ca-bundle.crt', // Fedora, RHEL 6
  '/etc/ssl/ca-bundle.pem', // openSUSE
  '/etc/pki/tls/cacert.pem', // OpenELEC
  '/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem', // CentOS, RHEL 7
  '/etc/ssl/cert.pem', // Alpine
];
