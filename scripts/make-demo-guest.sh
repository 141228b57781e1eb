#!/usr/bin/env bash
# make-demo-guest.sh OUTDIR
#
# Builds the tiny Linux guest that the Saffron demo boots in QEMU, so the SPICE display shows a
# console with a shell one can type into rather than a bare BIOS screen:
#   OUTDIR/vmlinuz     Debian's own amd64 kernel, taken from the linux-image .deb. The package is
#                      fetched with `apt-get download` and unpacked under OUTDIR; it is never
#                      installed on the host.
#   OUTDIR/initrd.img  a busybox-static initramfs (cpio newc + gzip): /init, busybox init with a
#                      login shell on tty1, and the qxl DRM module with its dependencies.
# scripts/demo-guest/run-guest.sh boots the result.
#
# Needs root on Debian 12 with the Debian mirror reachable (only for the first run and for kernel
# updates). Idempotent: when the inputs (kernel package version, busybox version, this script and
# the files in scripts/demo-guest/) have not changed since the last build, it does nothing.
# Downloads are cached in OUTDIR/cache, the unpacked kernel package in OUTDIR/kernel.
set -euo pipefail

die() {
  echo "make-demo-guest: error: $*" >&2
  exit 1
}
log() { echo "make-demo-guest: $*" >&2; }

[[ $# -eq 1 && -n $1 ]] || die "usage: $0 OUTDIR"
[[ $(id -u) -eq 0 ]] || die "must run as root (installs busybox-static, creates /dev/console)"

OUTDIR=$(realpath -m -- "$1")
SELF=$(realpath -- "${BASH_SOURCE[0]}")
SRC=$(dirname -- "$SELF")/demo-guest
# Everything that ends up in the initramfs comes from these files.
GUEST_FILES=(init inittab profile banner modules)
for f in "${GUEST_FILES[@]}"; do [[ -f $SRC/$f ]] || die "missing $SRC/$f"; done
mkdir -p -- "$OUTDIR/cache"
# Two builds of the same OUTDIR (e.g. `make demo` started twice) must not interleave.
exec 9>"$OUTDIR/.lock"
flock 9

export DEBIAN_FRONTEND=noninteractive
# apt-get download runs as the _apt user, which cannot write to OUTDIR under /root or /work;
# downloading as root into our own cache is what we want anyway.
APT_OPTS=(-q -o APT::Sandbox::User=root)

# --- 1. Which kernel: what linux-image-amd64 currently depends on ----------------------------
kernel_package() {
  # `apt-cache depends` prints the candidate version's dependencies, e.g.
  # "  Depends: linux-image-6.1.0-56-amd64".
  apt-cache depends linux-image-amd64 2>/dev/null |
    sed -n 's/^ *Depends: \(linux-image-[0-9][^ ]*-amd64\)$/\1/p' | head -n1
}
apt_updated=0
kpkg=$(kernel_package)
if [[ -z $kpkg ]]; then
  log "no package lists yet, running apt-get update"
  apt-get update -qq
  apt_updated=1
  kpkg=$(kernel_package)
fi
[[ -n $kpkg ]] || die "cannot resolve the dependency of linux-image-amd64 with apt-cache"
kdebver=$(apt-cache policy "$kpkg" | sed -n 's/^ *Candidate: //p')
[[ -n $kdebver && $kdebver != "(none)" ]] || die "no installable version of $kpkg"
krel=${kpkg#linux-image-} # the kernel's `uname -r`, e.g. 6.1.0-56-amd64

# --- 2. busybox-static on the host -----------------------------------------------------------
# The initramfs has no libc, so it needs the statically linked busybox, not Debian's `busybox`.
bb_installed() { dpkg-query -W -f='${Status}' busybox-static 2>/dev/null | grep -q "install ok installed"; }
if ! bb_installed; then
  log "installing busybox-static"
  ((apt_updated)) || apt-get update -qq
  apt-get install -y -qq --no-install-recommends busybox-static >/dev/null
fi
BUSYBOX=$(dpkg -L busybox-static | grep -m1 '/bin/busybox$') || die "busybox-static ships no busybox?"
bbver=$(dpkg-query -W -f='${Version}' busybox-static)

# --- 3. Up to date? ----------------------------------------------------------------------------
inputs_hash=$(cd -- "$SRC" && sha256sum "$SELF" "${GUEST_FILES[@]}" | sha256sum | cut -c1-16)
stamp="kernel=$kpkg/$kdebver busybox=$bbver inputs=$inputs_hash"
if [[ -s $OUTDIR/vmlinuz && -s $OUTDIR/initrd.img && -f $OUTDIR/.stamp &&
  $(<"$OUTDIR/.stamp") == "$stamp" ]]; then
  log "up to date ($stamp)"
  exit 0
fi
rm -f -- "$OUTDIR/.stamp"

# --- 4. Download and unpack the kernel package --------------------------------------------------
deb="$OUTDIR/cache/${kpkg}_${kdebver//:/%3a}_amd64.deb"
if [[ ! -s $deb ]]; then
  log "downloading $kpkg $kdebver"
  tmpdl=$(mktemp -d "$OUTDIR/cache/dl.XXXXXX")
  # apt-get download checks the file against the signed package index.
  (cd -- "$tmpdl" && apt-get download "${APT_OPTS[@]}" "$kpkg=$kdebver" >&2) ||
    { rm -rf -- "$tmpdl"; die "apt-get download $kpkg=$kdebver failed"; }
  rm -f -- "$OUTDIR"/cache/linux-image-*.deb # older kernels are of no further use
  mv -- "$tmpdl"/*.deb "$deb"
  rmdir -- "$tmpdl"
fi

kdir=$OUTDIR/kernel
if [[ ! -f $kdir/.unpacked-from || $(<"$kdir/.unpacked-from") != "$(basename -- "$deb")" ]]; then
  log "unpacking $(basename -- "$deb")"
  rm -rf -- "$kdir" "$kdir.tmp"
  dpkg-deb -x "$deb" "$kdir.tmp"
  basename -- "$deb" >"$kdir.tmp/.unpacked-from"
  mv -- "$kdir.tmp" "$kdir"
fi
[[ -f $kdir/boot/vmlinuz-$krel ]] || die "$deb has no /boot/vmlinuz-$krel"
moddir=$kdir/lib/modules/$krel
[[ -d $moddir ]] || die "$deb has no /lib/modules/$krel"

# --- 5. The initramfs -----------------------------------------------------------------------------
root=$OUTDIR/initramfs-root
rm -rf -- "$root"
mkdir -p -- "$root"/{bin,sbin,usr/bin,usr/sbin,etc,dev,proc,sys,tmp,run,root,lib/modules}

install -m 0755 -- "$BUSYBOX" "$root/bin/busybox"
# One symlink per applet at the path busybox itself reports (bin/sh, sbin/init, usr/bin/top...).
while read -r applet; do
  applet=${applet#/}
  [[ $applet == bin/busybox || -e $root/$applet ]] && continue
  ln -s /bin/busybox "$root/$applet"
done < <("$root/bin/busybox" --list-full)

install -m 0755 -- "$SRC/init" "$root/init"
install -m 0644 -- "$SRC/inittab" "$root/etc/inittab"
install -m 0644 -- "$SRC/profile" "$root/etc/profile"
install -m 0644 -- "$SRC/banner" "$root/etc/banner"
echo saffron-demo >"$root/etc/hostname"
printf 'root:x:0:0:root:/root:/bin/sh\n' >"$root/etc/passwd"
printf 'root:x:0:\ntty:x:5:\n' >"$root/etc/group"
chmod 0700 "$root/root"
chmod 1777 "$root/tmp"
# The kernel opens /dev/console for init's stdio before /init can mount devtmpfs.
mknod -m 0600 "$root/dev/console" c 5 1

# Modules listed in demo-guest/modules plus everything they depend on ("depends=" in .modinfo).
declare -A want=()
module_file() { find "$moddir/kernel" -name "$1.ko" -print -quit; }
add_module() {
  local name=${1//-/_} file dep
  [[ -n ${want[$name]:-} ]] && return 0
  file=$(module_file "$name")
  [[ -n $file ]] || file=$(module_file "${name//_/-}")
  [[ -n $file ]] || die "module $name is not in $kpkg"
  want[$name]=$file
  for dep in $("$BUSYBOX" strings -a "$file" | sed -n 's/^depends=//p' | tr , ' '); do
    add_module "$dep"
  done
}
while read -r m; do
  m=${m%%#*}
  m=${m//[[:space:]]/}
  [[ -n $m ]] && add_module "$m"
done <"$SRC/modules"
for name in "${!want[@]}"; do
  rel=${want[$name]#"$kdir"/}
  install -D -m 0644 -- "${want[$name]}" "$root/$rel"
done
# busybox's own depmod writes the modules.dep that the guest's modprobe reads.
if ((${#want[@]})); then
  "$BUSYBOX" depmod -b "$root" "$krel"
fi

# Fixed timestamps and owners: the same inputs give the same initrd.img.
find "$root" -exec touch -h -d @0 {} +
tmp_initrd=$(mktemp "$OUTDIR/initrd.img.XXXXXX")
(cd -- "$root" && find . -mindepth 1 -print0 | LC_ALL=C sort -z |
  cpio --null --create --format=newc --owner=0:0 --reproducible --quiet) |
  gzip -9 -n >"$tmp_initrd"
chmod 0644 "$tmp_initrd"
mv -- "$tmp_initrd" "$OUTDIR/initrd.img"

install -m 0644 -- "$kdir/boot/vmlinuz-$krel" "$OUTDIR/vmlinuz"
echo "$stamp" >"$OUTDIR/.stamp"
log "built $OUTDIR/vmlinuz ($(stat -c %s "$OUTDIR/vmlinuz") bytes, $krel) and" \
  "$OUTDIR/initrd.img ($(stat -c %s "$OUTDIR/initrd.img") bytes, modules: ${!want[*]})"
