//! Strict well-formedness of a device certificate: what x509-parser tolerates but RFC 5280
//! and strict verifiers refuse (trailing bytes, PEM framing, serial numbers, duplicate or
//! unknown critical extensions, malformed extension contents).

mod der;
mod extensions;
mod pem;
mod structure;

pub(crate) use extensions::Profile;
pub(crate) use pem::certificate_der;

/// Walks a certificate's DER and its extensions; an error says what is wrong.
pub(crate) fn check_certificate(der: &[u8]) -> Result<Profile, String> {
    let walked = structure::walk(der)?;
    extensions::check(&walked.extensions)
}
