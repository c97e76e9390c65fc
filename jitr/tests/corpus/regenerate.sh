#!/usr/bin/env bash
# Regenerates the certificate corpus of tests/corpus.rs with the openssl on this machine (no
# network): CAs and device certificates of many key types, signature algorithms, extensions,
# serial numbers and PEM framings, a few public root certificates copied from the system
# store, and expected.tsv naming the decision each one must get.
#
# expected.tsv: device file, CA file, device id source (cn|serial), expected outcome
# ("activate" or a reason code). The outcome is what the case is built to show, written here
# next to the command that builds it, never read back from the decision.
set -euo pipefail

dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cd "$work"

DAYS=36500
expected="$work/expected.tsv"
printf '# device\tca\tid_source\texpected\n' >"$expected"

key() { # key <file> <type>
  case "$2" in
    p256) openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" ;;
    p384) openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-384 -out "$1" ;;
    p521) openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-521 -out "$1" ;;
    secp256k1) openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:secp256k1 -out "$1" ;;
    ed25519) openssl genpkey -algorithm ED25519 -out "$1" ;;
    rsa*) openssl genpkey -algorithm RSA -pkeyopt "rsa_keygen_bits:${2#rsa}" -out "$1" 2>/dev/null ;;
  esac
}

ca() { # ca <name> <key type> [digest]
  key "ca-$1.key" "$2"
  local digest=()
  [ -n "${3:-}" ] && digest=("-$3")
  openssl req -x509 -new -key "ca-$1.key" "${digest[@]}" -days "$DAYS" \
    -subj "/CN=Corpus $1 CA/O=fleetid corpus" \
    -addext "basicConstraints=critical,CA:TRUE" \
    -addext "keyUsage=critical,keyCertSign,cRLSign" \
    -out "ca-$1.pem"
}

# device <name> <ca> <key type> <subject> <serial> <digest|-> <extension lines|-> <expected> [id source]
device() {
  local name="$1" ca="$2" type="$3" subject="$4" serial="$5" digest="$6" ext="$7"
  key "dev-$name.key" "$type"
  openssl req -new -key "dev-$name.key" -subj "$subject" -out "dev-$name.csr"
  local args=(-req -in "dev-$name.csr" -CA "ca-$ca.pem" -CAkey "ca-$ca.key" -days "$DAYS"
    -set_serial "$serial" -out "dev-$name.pem")
  [ "$digest" != "-" ] && args+=("-$digest")
  if [ "$ext" != "-" ]; then
    printf '[ext]\n%b\n' "$ext" >"dev-$name.cnf"
    args+=(-extfile "dev-$name.cnf" -extensions ext)
  fi
  openssl x509 "${args[@]}" "${SIGOPT[@]}" 2>/dev/null
  rm -f "dev-$name.csr" "dev-$name.cnf" "dev-$name.key"
  printf 'dev-%s.pem\tca-%s.pem\t%s\t%s\n' "$name" "$ca" "${9:-cn}" "$8" >>"$expected"
}
SIGOPT=()

ca p256 p256 sha256
ca p384 p384 sha384
ca rsa2048 rsa2048 sha256
ca rsa4096 rsa4096 sha512
ca rsa1024 rsa1024 sha256
ca p521 p521 sha512
ca secp256k1 secp256k1 sha256
ca ed25519 ed25519

LEAF='basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=clientAuth\nsubjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid'

# Shapes that activate.
device v1-p256 p256 p256 "/CN=dev-v1" 1001 sha256 - activate
device leaf-p256 p256 p256 "/CN=dev-leaf/O=fleetid devices" 1002 sha256 "$LEAF" activate
device san-p384 p256 p384 "/CN=dev-san" 1003 sha256 "$LEAF\nsubjectAltName=DNS:dev-san.example,IP:10.0.0.7,IP:2001:db8::7,email:ops@example.com,URI:urn:dev:san" activate
device aia-rsa2048 p256 rsa2048 "/CN=dev-aia" 1004 sha256 "$LEAF\nauthorityInfoAccess=OCSP;URI:http://ocsp.example,caIssuers;URI:http://ca.example/ca.der\ncrlDistributionPoints=URI:http://crl.example/ca.crl\ncertificatePolicies=2.23.140.1.2.1" activate
device rsa4096-sha512 rsa4096 rsa4096 "/CN=dev-rsa4096" 1005 sha512 "$LEAF" activate
device rsa3072-sha384 rsa2048 rsa3072 "/CN=dev-rsa3072" 1006 sha384 "$LEAF" activate
device p256-under-p384 p384 p256 "/CN=dev-p384ca" 1007 sha384 "$LEAF" activate
device othername rsa2048 p256 "/C=DE/ST=Berlin/O=fleetid devices/OU=line 3/CN=dev-othername" 1008 sha256 "$LEAF\nsubjectAltName=otherName:1.3.6.1.4.1.311.20.2.3;UTF8:dev@example,dirName:dir_sect\n[dir_sect]\nCN=dev-dir\nO=fleetid" activate
device private-ext p256 p256 "/CN=dev-private" 1009 sha256 "$LEAF\n1.3.6.1.4.1.55555.7=ASN1:UTF8String:hello" activate
device serial-20 p256 p256 "/O=no common name" 0x7f0102030405060708090a0b0c0d0e0f10111213 sha256 "$LEAF" activate serial
device serial-lead-zero p256 p256 "/O=no common name" 0xff01 sha256 "$LEAF" activate serial

# Shapes that are refused, and why.
device weak-rsa1024 p256 rsa1024 "/CN=dev-weak" 2001 sha256 "$LEAF" WEAK_KEY
device key-p521 p256 p521 "/CN=dev-p521" 2002 sha256 "$LEAF" UNSUPPORTED_KEY
device key-secp256k1 p256 secp256k1 "/CN=dev-k1" 2003 sha256 "$LEAF" UNSUPPORTED_KEY
device key-ed25519 p256 ed25519 "/CN=dev-ed" 2004 sha256 "$LEAF" UNSUPPORTED_KEY
device ca-true p256 p256 "/CN=dev-ca" 2005 sha256 'basicConstraints=critical,CA:TRUE' NOT_A_DEVICE_CERTIFICATE
device critical-private p256 p256 "/CN=dev-crit" 2006 sha256 "$LEAF\n1.3.6.1.4.1.55555.7=critical,ASN1:NULL" MALFORMED_CERTIFICATE
device critical-policies p256 p256 "/CN=dev-crit-pol" 2007 sha256 "$LEAF\ncertificatePolicies=critical,2.23.140.1.2.1" MALFORMED_CERTIFICATE
device serial-negative p256 p256 "/CN=dev-neg" -5 sha256 "$LEAF" MALFORMED_CERTIFICATE
device serial-zero p256 p256 "/CN=dev-zero" 0 sha256 "$LEAF" MALFORMED_CERTIFICATE
device serial-21 p256 p256 "/CN=dev-long" 0x0102030405060708090a0b0c0d0e0f101112131415 sha256 "$LEAF" MALFORMED_CERTIFICATE
device serial-20-top-bit p256 p256 "/CN=dev-long2" 0x8102030405060708090a0b0c0d0e0f1011121314 sha256 "$LEAF" MALFORMED_CERTIFICATE
device sha1 rsa2048 p256 "/CN=dev-sha1" 2008 sha1 "$LEAF" UNSUPPORTED_SIGNATURE_ALGORITHM
device ecdsa-sha512 p256 p256 "/CN=dev-sha512" 2009 sha512 "$LEAF" UNSUPPORTED_SIGNATURE_ALGORITHM
SIGOPT=(-sigopt rsa_padding_mode:pss -sigopt rsa_pss_saltlen:32)
device rsa-pss rsa2048 p256 "/CN=dev-pss" 2010 sha256 "$LEAF" UNSUPPORTED_SIGNATURE_ALGORITHM
SIGOPT=()
device no-cn p256 p256 "/O=fleetid devices" 2011 sha256 "$LEAF" NO_DEVICE_ID
device cn-space p256 p256 "/CN=dev 012" 2012 sha256 "$LEAF" INVALID_DEVICE_ID
device cn-utf8 p256 p256 "/CN=dév-013" 2013 sha256 "$LEAF" INVALID_DEVICE_ID
device under-rsa1024 rsa1024 p256 "/CN=dev-ca1024" 2014 sha256 "$LEAF" UNSUPPORTED_CA_KEY
device under-p521 p521 p256 "/CN=dev-ca521" 2015 sha512 "$LEAF" UNSUPPORTED_CA_KEY
device under-secp256k1 secp256k1 p256 "/CN=dev-cak1" 2016 sha256 "$LEAF" UNSUPPORTED_CA_KEY
device under-ed25519 ed25519 p256 "/CN=dev-caed" 2017 - "$LEAF" UNSUPPORTED_CA_KEY

# The same certificates against the wrong CA.
printf 'dev-leaf-p256.pem\tca-p384.pem\tcn\tISSUER_MISMATCH\n' >>"$expected"
printf 'dev-leaf-p256.pem\tca-rsa2048.pem\tcn\tISSUER_MISMATCH\n' >>"$expected"

# PEM framings of a good certificate.
sed 's/$/\r/' dev-leaf-p256.pem >pem-crlf.pem
printf 'pem-crlf.pem\tca-p256.pem\tcn\tactivate\n' >>"$expected"
{ cat dev-leaf-p256.pem; echo "trailing text"; } >pem-trailing-text.pem
printf 'pem-trailing-text.pem\tca-p256.pem\tcn\tMALFORMED_CERTIFICATE\n' >>"$expected"
cat dev-leaf-p256.pem ca-p256.pem >pem-chain.pem
printf 'pem-chain.pem\tca-p256.pem\tcn\tMALFORMED_CERTIFICATE\n' >>"$expected"
sed 's/END CERTIFICATE/END TRUSTED CERTIFICATE/' dev-leaf-p256.pem >pem-end-label.pem
printf 'pem-end-label.pem\tca-p256.pem\tcn\tMALFORMED_CERTIFICATE\n' >>"$expected"
openssl x509 -in dev-leaf-p256.pem -text >pem-with-text.pem
printf 'pem-with-text.pem\tca-p256.pem\tcn\tMALFORMED_CERTIFICATE\n' >>"$expected"

# Public roots, presented as a device certificate under themselves: CA certificates.
for root in Amazon_Root_CA_1 Amazon_Root_CA_3 ISRG_Root_X1 DigiCert_Global_Root_G3 GlobalSign_Root_CA; do
  source="/etc/ssl/certs/$root.pem"
  [ -r "$source" ] || continue
  openssl x509 -in "$source" -out "root-$root.pem"
  printf 'root-%s.pem\troot-%s.pem\tcn\tNOT_A_DEVICE_CERTIFICATE\n' "$root" "$root" >>"$expected"
done

rm -f ./*.key
find "$dir" -maxdepth 1 -name '*.pem' -delete
cp ./*.pem expected.tsv "$dir/"
echo "corpus: $(grep -vc '^#' "$dir/expected.tsv") cases in $dir"
