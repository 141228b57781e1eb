#!/usr/bin/env bash
# Makes a signed RAUC update bundle (verity format) for an image: the root filesystem for the
# inactive slot and the unified kernel image that boots it. The root is a squashfs written to
# the slot as it is; RAUC 1.8 picks its raw-copy handler by the name `.img`.
# Usage: make-bundle.sh TREE UKI VERSION COMPATIBLE KEYDIR OUT.raucb [ROOT.sqfs]
#   TREE       the pruned OS tree (its root in the bundle says IMAGE_VERSION=VERSION)
#   UKI        the unified kernel image (saffron.efi in the bundle; pre-install copies it)
#   ROOT.sqfs  an already-built squashfs of TREE at this VERSION (the disk's slot A); without it
#              the root is made here (used to make a newer test bundle from the same tree)
set -euo pipefail
tree=${1:?} uki=${2:?} version=${3:?} compatible=${4:?} keys=${5:?} out=${6:?} sqfs=${7:-}
content=$(mktemp -d)
rauc_log=$(mktemp)
trap 'rm -rf "$content" "$rauc_log"' EXIT
if [[ -n "$sqfs" ]]; then
    cp --reflink=auto "$sqfs" "$content/root.img"
else
    # The root says which version it is (os-release IMAGE_VERSION): set for the squashfs, then
    # the tree's own file is put back (mksquashfs pseudo files cannot replace a tree's file).
    osrel=$tree/usr/lib/os-release
    cp -p "$osrel" "$content/os-release.orig"
    trap 'cp -p "$content/os-release.orig" "$osrel"; rm -rf "$content" "$rauc_log"' EXIT
    { grep -v '^IMAGE_VERSION=' "$content/os-release.orig"; echo "IMAGE_VERSION=$version"; } >"$osrel"
    mksquashfs "$tree" "$content/root.img" -noappend -quiet -no-progress -comp zstd -Xcompression-level 22 -b 1M \
        -processors "${JOBS:-2}" -wildcards -e 'boot/*' 'var/*' 'efi/*' >/dev/null
    cp -p "$content/os-release.orig" "$osrel"
    rm "$content/os-release.orig"
    trap 'rm -rf "$content" "$rauc_log"' EXIT
fi
cp "$uki" "$content/saffron.efi"
cat >"$content/manifest.raucm" <<EOM
[update]
compatible=$compatible
version=$version
description=Saffron $compatible $version
build=$(date -u +%Y%m%dT%H%M%SZ)

[bundle]
format=verity

[image.rootfs]
filename=root.img
EOM
rm -f "$out"
# RAUC logs every step on stderr; show it only when the bundle could not be made.
if ! rauc bundle --cert="$keys/signing.cert.pem" --key="$keys/signing.key.pem" \
    --keyring="$keys/ca.cert.pem" "$content" "$out" >"$rauc_log" 2>&1; then
    cat "$rauc_log" >&2
    exit 1
fi
