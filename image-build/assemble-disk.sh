#!/usr/bin/env bash
# Turns an OS tree into a bootable UEFI GPT disk without loop devices or mounts:
#   ESP (FAT, mkfs.fat + mtools): systemd-boot at \EFI\BOOT\BOOTX64.EFI, slot A's unified
#     kernel image at \EFI\saffron\slot-a.efi and its boot entry (usr/lib/saffron/update/
#     boot-slots: boot counting, A/B fallback),
#   root slot A (read-only squashfs), root slot B (empty, same size, for A/B updates),
#   /var (ext4 made with mkfs.ext4 -d from the tree's /var).
# Usage: assemble-disk.sh TREE OUTDIR NAME   -> OUTDIR/NAME.raw and OUTDIR/NAME.raw.zst
# KERNEL_CMDLINE: recipe additions to the kernel command line; VAR_SIZE_MB: /var size.
set -euo pipefail
tree=${1:?}; outdir=${2:?}; name=${3:?}
var_mb=${VAR_SIZE_MB:-256}
parts=$outdir/parts
rm -rf "$parts"; mkdir -p "$parts"
mib() { echo $(( ($(stat -c %s "$1") + 1048575) / 1048576 )); }

kver=$(ls "$tree/usr/lib/modules" | head -n1)
vmlinuz=$tree/boot/vmlinuz-$kver
initrd=$tree/boot/initrd.img-$kver
[[ -f "$vmlinuz" && -f "$initrd" ]] || { echo "assemble: no kernel/initrd for $kver in $tree/boot" >&2; exit 1; }

# Kernel command line shared by both slots; each slot's boot entry adds its root and
# rauc.slot= (boot-slots set-primary reads this file, in the image, when RAUC installs a slot).
# rd.shell=0 rd.emergency=reboot: an initrd that cannot mount its root restarts instead of
# offering a shell, which both locks the console and lets boot counting fall back to the other
# slot.
shared="rootfstype=squashfs ro console=ttyS0,115200 quiet loglevel=3 rd.shell=0 rd.emergency=reboot ${KERNEL_CMDLINE:-}"
shared=$(echo $shared)
mkdir -p "$tree/usr/lib/saffron/update"
printf '%s\n' "$shared" >"$tree/usr/lib/saffron/update/cmdline"
cmdline="root=PARTLABEL=saffron-root-a rauc.slot=A $shared"
echo "    kernel $kver, cmdline: $cmdline"

# Unified kernel image: systemd-stub with os-release, cmdline, kernel and initrd as PE sections
# (the layout systemd 252's stub expects; ukify only exists from systemd 253). Its built-in
# command line is slot A's, used only if the UKI is started without systemd-boot's entry.
printf '%s' "$cmdline" >"$parts/cmdline"
objcopy \
    --add-section .osrel="$tree/usr/lib/os-release" --change-section-vma .osrel=0x20000 \
    --add-section .cmdline="$parts/cmdline" --change-section-vma .cmdline=0x30000 \
    --add-section .linux="$vmlinuz" --change-section-vma .linux=0x2000000 \
    --add-section .initrd="$initrd" --change-section-vma .initrd=0x3000000 \
    /usr/lib/systemd/boot/efi/linuxx64.efi.stub "$parts/saffron.efi"
echo "    UKI: $(mib "$parts/saffron.efi") MiB (initrd $(mib "$initrd") MiB)"

# ESP contents, staged as a folder: systemd-boot, its settings, slot A's kernel and entry.
# loader.conf: no menu (a key held at boot still shows it), no command-line editor (it would be
# a way to a root shell on a kiosk), no automatic entries, and no `default`, so the entries'
# order and boot counting choose the slot (see boot-slots).
esp=$parts/esp
mkdir -p "$esp/EFI/BOOT" "$esp/EFI/systemd" "$esp/EFI/saffron" "$esp/loader/entries"
cp /usr/lib/systemd/boot/efi/systemd-bootx64.efi "$esp/EFI/BOOT/BOOTX64.EFI"
cp /usr/lib/systemd/boot/efi/systemd-bootx64.efi "$esp/EFI/systemd/systemd-bootx64.efi"
printf 'timeout 0\neditor no\nauto-entries no\nauto-firmware no\nconsole-mode keep\n' >"$esp/loader/loader.conf"
cp "$parts/saffron.efi" "$esp/EFI/saffron/slot-a.efi"
version=$(. "$tree/usr/lib/os-release" && echo "${IMAGE_VERSION:-}")
[[ -n "$version" ]] && echo "$version" >"$esp/EFI/saffron/slot-a.version"
SAFFRON_ESP=$esp SAFFRON_BOOT_CMDLINE=$tree/usr/lib/saffron/update/cmdline \
    bash "$tree/usr/lib/saffron/update/boot-slots" set-primary A
echo "    ESP: systemd-boot, entry $(ls "$esp/loader/entries")"

# ESP: room for two UKIs (slot A and B) plus slack.
uki_mb=$(mib "$parts/saffron.efi")
esp_mb=$(( (2 * uki_mb + 16 + 15) / 16 * 16 ))
(( esp_mb < 64 )) && esp_mb=64
mkfs.fat -F 32 -n ESP -C "$parts/esp.img" $((esp_mb * 1024)) >/dev/null
mcopy -s -i "$parts/esp.img" "$esp/EFI" "$esp/loader" ::/

# Read-only root: everything but /boot (now inside the UKI) and /var (own partition).
# zstd at its highest level: ~9 % smaller than the default (15) at the same decompression speed
# (only the build takes longer); xz would be 20 % smaller but decompresses ~6x slower, which a
# thin client would pay on every boot.
mksquashfs "$tree" "$parts/root.sqfs" -noappend -quiet -no-progress -comp zstd -Xcompression-level 22 -b 1M \
    -processors "${JOBS:-2}" -wildcards -e 'boot/*' 'var/*' 'efi/*' >/dev/null
root_mb=$(mib "$parts/root.sqfs")
slot_mb=$(( (root_mb * 13 / 10 + 63) / 64 * 64 ))
echo "    root squashfs: $root_mb MiB (slots of $slot_mb MiB)"

mkfs.ext4 -q -F -L var -d "$tree/var" -E root_owner=0:0 "$parts/var.img" "${var_mb}M"
echo "    /var ext4: $var_mb MiB ($(du -sm "$tree/var" | cut -f1) MiB used)"

# GPT: ESP, root-a, root-b, var; 1 MiB aligned, sparse file.
img=$outdir/$name.raw
rm -f "$img" "$img.zst"
total_mb=$((1 + esp_mb + 2 * slot_mb + var_mb + 1))
truncate -s "${total_mb}M" "$img"
sfdisk -q "$img" <<EOP
label: gpt
unit: sectors
start=2048, size=$((esp_mb * 2048)), type=C12A7328-F81F-11D2-BA4B-00A0C93EC93B, name="ESP"
size=$((slot_mb * 2048)), type=4F68BCE3-E8CD-4DB1-96E7-FBCAF984B709, name="saffron-root-a", attrs="GUID:60"
size=$((slot_mb * 2048)), type=4F68BCE3-E8CD-4DB1-96E7-FBCAF984B709, name="saffron-root-b", attrs="GUID:60"
size=$((var_mb * 2048)), type=4D21B016-B534-45C2-A9FB-5C16E091FD2D, name="saffron-var"
EOP
put() { dd if="$1" of="$img" bs=1M seek="$2" conv=notrunc,sparse status=none; }
put "$parts/esp.img" 1
put "$parts/root.sqfs" $((1 + esp_mb))
put "$parts/var.img" $((1 + esp_mb + 2 * slot_mb))
zstd -q -T"${JOBS:-2}" -f "$img" -o "$img.zst"
# Keep the pieces an update bundle needs (root.sqfs, the UKI); drop the rest.
rm -rf "$parts/esp.img" "$parts/var.img" "$esp"
