#!/usr/bin/env bash
# Builds a Saffron appliance disk image: `image-build/build-image.sh RECIPE OUTDIR`
# (`make image RECIPE=kiosk`). Runs as root on Debian 12 with the Debian mirror reachable.
#
#  1. builds Saffron from this checkout and packages it as a .deb (CPack, cmake/SaffronPackaging.cmake)
#  2. mkosi 14 builds the OS tree (Format=directory) from image-build/ + recipes/RECIPE/
#  3. prune.sh removes what the recipe does not need (kernel modules, apt state, docs, locales)
#  4. assemble-disk.sh makes a UEFI GPT disk with no loop mounts: systemd-boot and the UKI on a
#     FAT ESP, squashfs root in slot A, empty slot B, ext4 /var; then zstd-compresses it.
#  5. make-bundle.sh signs an update bundle of the same image (RAUC, verity format) for
#     appliances already in the field: OUTDIR/saffron-RECIPE-VERSION.raucb.
#
# Environment: SAFFRON_SOURCE_DIR (application sources, default this checkout),
# SAFFRON_BUILD_DIR (CMake build folder, default <checkout>/build-image), SAFFRON_SKIP_BUILD=1
# (package SAFFRON_BUILD_DIR's binaries as they are, without configuring or building it),
# MKOSI_CACHE (package cache, default /var/cache/saffron-image/mkosi), JOBS (default 2),
# SAFFRON_UPDATE_KEYS (update-signing CA and key, default /var/lib/saffron-image/update-keys:
# created as a development PKI if missing, see update-keys.sh), SAFFRON_IMAGE_VERSION (default
# the project version plus the build time, e.g. 0.1.0.202611271230: versions must grow, as an
# appliance installs only a newer bundle).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)
recipe=${1:-}
outdir=${2:-}
if [[ -z "$recipe" || -z "$outdir" ]]; then
    echo "usage: $0 RECIPE OUTDIR   (recipes: $(ls "$top/recipes" | tr '\n' ' '))" >&2
    exit 2
fi
recipe_dir=$top/recipes/$recipe
[[ -d "$recipe_dir" ]] || { echo "build-image: no recipe '$recipe' in $top/recipes" >&2; exit 2; }
[[ $(id -u) -eq 0 ]] || { echo "build-image: must run as root (mkosi, debootstrap)" >&2; exit 2; }
for tool in mkosi debootstrap mksquashfs mkfs.fat mcopy mmd sfdisk objcopy zstd mkfs.ext4 dpkg-deb cpack rauc openssl; do
    command -v "$tool" >/dev/null || { echo "build-image: '$tool' missing: run scripts/install-deps.sh" >&2; exit 2; }
done
for f in linuxx64.efi.stub systemd-bootx64.efi; do
    [[ -f /usr/lib/systemd/boot/efi/$f ]] || { echo "build-image: $f missing (systemd-boot-efi)" >&2; exit 2; }
done

mkdir -p "$outdir"
outdir=$(cd "$outdir" && pwd)
src_dir=${SAFFRON_SOURCE_DIR:-$top}
build_dir=${SAFFRON_BUILD_DIR:-$top/build-image}
cache=${MKOSI_CACHE:-/var/cache/saffron-image/mkosi}
jobs=${JOBS:-2}
t_all=$SECONDS
step() { printf '\n==> [%s] %s\n' "$(date +%T)" "$*"; }
took() { printf '    (%s: %d s)\n' "$1" $((SECONDS - $2)); }

# Recipe knobs (recipe.env): RECIPE_BASE, CONSOLE_LOGIN, KERNEL_CMDLINE, KEEP_MODULES, VAR_SIZE_MB,
# KEEP_GST_PLUGINS (empty: prune.sh's list), MESA_DRIVERS (keep | none: see prune.sh).
RECIPE_BASE=""
KEEP_GST_PLUGINS=""
MESA_DRIVERS=keep
CONSOLE_LOGIN=no
KERNEL_CMDLINE=""
KEEP_MODULES=""
VAR_SIZE_MB=256
# shellcheck source=/dev/null
[[ -f "$recipe_dir/recipe.env" ]] && . "$recipe_dir/recipe.env"

step "1/5 Saffron package from $src_dir ($build_dir)"
t=$SECONDS
if [[ "${SAFFRON_SKIP_BUILD:-0}" == 1 ]]; then
    # Package a build folder as it is (e.g. one another build owns): never configure or build it.
    echo "    SAFFRON_SKIP_BUILD=1: packaging $build_dir/shell/{saffron,saffron-cli} as built"
else
    # -O2 without -g: the package is stripped anyway, and debug info roughly doubles the compile
    # time on a 2-core CI machine. Not CMake's Release (-O3): GCC 12 had a false -Wrestrict at
    # -O3 (fixed in media/video/DecoderOverrides.cpp; a full -O3 build with -Werror has not been
    # tried since), and -O2 is what Debian builds its packages with.
    cmake -S "$src_dir" -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=Release \
        "-DCMAKE_CXX_FLAGS_RELEASE=-O2 -DNDEBUG" "-DCMAKE_C_FLAGS_RELEASE=-O2 -DNDEBUG" \
        -DSAFFRON_BUILD_TESTS=OFF >/dev/null
    cmake --build "$build_dir" --target saffron saffron-cli -j "$jobs"
fi
version=$(sed -nE 's/^project\(Saffron VERSION ([0-9.]+).*/\1/p' "$src_dir/CMakeLists.txt")
# A small packaging project reads only the two binaries (image-build/package/CMakeLists.txt), so
# the build folder is never reconfigured; CPack strips them and runs dpkg-shlibdeps.
stage=$outdir/package
rm -rf "$stage" "$outdir/deb"
mkdir -p "$outdir/deb"
cmake -S "$here/package" -B "$stage" -DSAFFRON_BUILD_DIR="$build_dir" -DSAFFRON_VERSION="${version:-0.0.0}" >/dev/null
(cd "$stage" && cpack -G DEB -B "$outdir/deb" >/dev/null)
deb=$(ls "$outdir"/deb/saffron_*.deb)
echo "    $(basename "$deb"): $(du -h "$deb" | cut -f1)"
echo "    Depends: $(dpkg-deb -f "$deb" Depends)"
took "package" $t

step "2/5 OS tree with mkosi (recipe $recipe)"
t=$SECONDS
work=$outdir/work
rm -rf "$work"
mkdir -p "$work/mkosi.default.d" "$work/mkosi.extra/var/cache/saffron-deb" "$cache"
cp "$here/mkosi.default" "$here/mkosi.postinst" "$work/"
cp -a "$here/mkosi.skeleton" "$work/"
cp -a "$here/mkosi.extra/." "$work/mkosi.extra/"
# A recipe may build on another one (RECIPE_BASE): the base's drop-ins and files come first.
for r in ${RECIPE_BASE:+"$top/recipes/$RECIPE_BASE"} "$recipe_dir"; do
    if [[ -d "$r/mkosi.default.d" ]]; then cp "$r"/mkosi.default.d/*.conf "$work/mkosi.default.d/"; fi
    if [[ -d "$r/mkosi.extra" ]]; then cp -a "$r/mkosi.extra/." "$work/mkosi.extra/"; fi
done
cp "$deb" "$work/mkosi.extra/var/cache/saffron-deb/"
# The package's run-time dependencies (dpkg-shlibdeps computed them) are installed by mkosi's
# apt run, so the postinst's dpkg -i needs no network.
deps=$(dpkg-deb -f "$deb" Depends Recommends | tr ',' '\n' | sed -e 's/|.*//' -e 's/(.*)//' -e 's/^Depends://' \
    -e 's/^Recommends://' -e 's/[[:space:]]//g' | grep -v '^$' | sort -u | paste -sd, -)
{
    echo "# Generated by build-image.sh from $(basename "$deb")"
    echo "[Content]"
    echo "Packages=$deps"
    echo "Environment=SAFFRON_RECIPE_CONSOLE=$CONSOLE_LOGIN"
} >"$work/mkosi.default.d/90-saffron-package.conf"
# Until the shell speaks sd_notify, a Type=notify unit would never become ready: fall back to
# Type=simple (and no watchdog) for a binary that does not contain the notify code.
if ! grep -qa -e NOTIFY_SOCKET -e sd_notify "$build_dir/shell/saffron"; then
    echo "    note: this saffron binary has no sd_notify support yet: unit falls back to Type=simple"
    cat >"$work/mkosi.extra/usr/lib/systemd/system/saffron-kiosk@.service.d/50-no-sd-notify.conf" <<'EOC'
# Added by build-image.sh: this build of saffron does not send READY=1/WATCHDOG=1 yet.
[Service]
Type=simple
WatchdogSec=0
EOC
fi
rm -rf "$outdir/mkosi.output"
mkdir -p "$outdir/mkosi.output"
(cd "$work" && mkosi --nspawn-keep-unit --cache "$cache" --output-dir "$outdir/mkosi.output" --force build) \
    2>&1 | sed -u 's/^/    /'
# mkosi 14 puts its outputs in a <distribution>~<release>/ subfolder of --output-dir.
tree=$(ls -d "$outdir"/mkosi.output/*/image 2>/dev/null | head -n1)
[[ -n "$tree" && -d "$tree/usr" ]] || { echo "build-image: mkosi produced no tree" >&2; exit 1; }
echo "    tree: $(du -sh "$tree" | cut -f1)"
took "mkosi" $t

step "3/5 prune"
t=$SECONDS
KEEP_MODULES="$KEEP_MODULES" KEEP_GST_PLUGINS="$KEEP_GST_PLUGINS" MESA_DRIVERS="$MESA_DRIVERS" \
    bash "$here/prune.sh" "$tree"
echo "    tree: $(du -sh "$tree" | cut -f1)"
took "prune" $t

# Identity and update trust: the image's version (bundles carry the same one), the RAUC slot
# layout, and the keyring bundles must be signed against.
image_version=${SAFFRON_IMAGE_VERSION:-${version:-0.0.0}.$(date -u +%Y%m%d%H%M)}
compatible=saffron-$recipe
keys=${SAFFRON_UPDATE_KEYS:-/var/lib/saffron-image/update-keys}
bash "$here/update-keys.sh" "$keys"
sed -i -e '/^IMAGE_ID=/d' -e '/^IMAGE_VERSION=/d' "$tree/usr/lib/os-release"
printf 'IMAGE_ID=%s\nIMAGE_VERSION=%s\n' "$compatible" "$image_version" >>"$tree/usr/lib/os-release"
mkdir -p "$tree/etc/rauc"
install -m 0644 "$keys/ca.cert.pem" "$tree/etc/rauc/keyring.pem"
cat >"$tree/etc/rauc/system.conf" <<EOC
# Written by build-image.sh. A/B root slots; the boot loader side is systemd-boot's boot
# counting through /usr/lib/saffron/update/boot-slots. Only signed verity bundles are accepted.
[system]
compatible=$compatible
bootloader=custom
bundle-formats=verity
data-directory=/var/lib/rauc

[keyring]
path=/etc/rauc/keyring.pem

[handlers]
bootloader-custom-backend=/usr/lib/saffron/update/boot-slots
pre-install=/usr/lib/saffron/update/pre-install

[slot.rootfs.0]
device=/dev/disk/by-partlabel/saffron-root-a
type=raw
bootname=A

[slot.rootfs.1]
device=/dev/disk/by-partlabel/saffron-root-b
type=raw
bootname=B
EOC
echo "    image $compatible $image_version; update keyring: $keys/ca.cert.pem"

step "4/5 disk (systemd-boot + UKI on the ESP, squashfs root, ext4 /var)"
t=$SECONDS
KERNEL_CMDLINE="$KERNEL_CMDLINE" VAR_SIZE_MB="$VAR_SIZE_MB" \
    bash "$here/assemble-disk.sh" "$tree" "$outdir" "saffron-$recipe"
took "disk" $t

step "5/5 update bundle"
t=$SECONDS
bundle=$outdir/saffron-$recipe-$image_version.raucb
rm -f "$outdir"/saffron-"$recipe"-*.raucb
bash "$here/make-bundle.sh" "$tree" "$outdir/parts/saffron.efi" "$image_version" "$compatible" "$keys" \
    "$bundle" "$outdir/parts/root.sqfs"
echo "    $(basename "$bundle"): $(($(stat -c %s "$bundle") / 1048576)) MiB, signed by $(openssl x509 -noout -subject -in "$keys/signing.cert.pem" | sed 's/^subject=//')"
took "bundle" $t

img=$outdir/saffron-$recipe.raw
printf '\n==> done in %d s\n' $((SECONDS - t_all))
printf '    image:        %s\n' "$img"
printf '    uncompressed: %s MiB (allocated %s MiB)\n' $(($(stat -c %s "$img") / 1048576)) \
    $(($(du -k "$img" | cut -f1) / 1024))
printf '    compressed:   %s.zst %s MiB\n' "$img" $(($(stat -c %s "$img.zst") / 1048576))
printf '    update:       %s %s MiB\n' "$bundle" $(($(stat -c %s "$bundle") / 1048576))
