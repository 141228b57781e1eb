#!/usr/bin/env bash
# Makes sure KEYDIR holds the update-signing PKI that build-image.sh needs:
#   ca.cert.pem       the keyring every image trusts (/etc/rauc/keyring.pem)
#   signing.cert.pem  signing.key.pem   what bundles are signed with (issued by the CA)
# If they are missing, creates a development CA and signing key (and says so): images and bundles
# built on this machine then trust each other, and nothing else. A product build points
# SAFFRON_UPDATE_KEYS at its own, offline-kept PKI instead. Usage: update-keys.sh KEYDIR
set -euo pipefail
dir=${1:?usage: update-keys.sh KEYDIR}
if [[ -f "$dir/ca.cert.pem" && -f "$dir/signing.cert.pem" && -f "$dir/signing.key.pem" ]]; then
    exit 0
fi
echo "    update keys: none in $dir: creating a DEVELOPMENT CA and signing key (not for products)"
mkdir -p "$dir"
chmod 700 "$dir"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
openssl req -x509 -newkey rsa:3072 -nodes -keyout "$dir/ca.key.pem" -out "$dir/ca.cert.pem" \
    -days 3650 -subj "/O=Saffron development/CN=Saffron update CA ($(hostname))" \
    -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign 2>/dev/null
openssl req -newkey rsa:3072 -nodes -keyout "$dir/signing.key.pem" -out "$tmp/signing.csr" \
    -subj "/O=Saffron development/CN=Saffron update signing ($(hostname))" 2>/dev/null
printf 'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\n' >"$tmp/ext"
openssl x509 -req -in "$tmp/signing.csr" -CA "$dir/ca.cert.pem" -CAkey "$dir/ca.key.pem" \
    -CAcreateserial -days 3650 -extfile "$tmp/ext" -out "$dir/signing.cert.pem" 2>/dev/null
chmod 600 "$dir"/*.key.pem
