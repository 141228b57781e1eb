#!/usr/bin/env bash
# Removes from an mkosi OS tree what an appliance never uses: kernel modules outside the classes
# the recipe keeps, package-manager state and caches, documentation, locales, the initrd
# generator. Usage: prune.sh TREE   (KEEP_MODULES: extra module paths, relative to
# lib/modules/KVER/kernel/, that the recipe needs on top of the defaults below).
set -euo pipefail
tree=${1:?usage: prune.sh TREE}
[[ -d "$tree/usr/lib/modules" ]] || { echo "prune: $tree has no kernel modules" >&2; exit 1; }
before=$(du -sm "$tree" | cut -f1)

# Module classes every recipe needs: the boot path (virtio, NVMe/AHCI/USB storage, squashfs,
# erofs, ext4, vfat for the ESP), display (DRM: virtio-gpu, i915, amdgpu, nouveau, simpledrm),
# input (HID, USB, PS/2), sound (HDA, USB audio), common wired NICs, USB host controllers.
default_keep=(
    arch crypto lib
    fs/squashfs fs/erofs fs/ext4 fs/jbd2 fs/mbcache.ko* fs/fat fs/nls fs/overlayfs fs/efivarfs fs/fuse
    block drivers/block/virtio_blk.ko* drivers/block/loop.ko*
    drivers/nvme drivers/ata/ahci.ko* drivers/ata/libahci.ko* drivers/ata/libata.ko*
    drivers/scsi/sd_mod.ko* drivers/scsi/scsi_mod.ko* drivers/scsi/sg.ko* drivers/scsi/virtio_scsi.ko* drivers/scsi/scsi_common.ko*
    drivers/md/dm-mod.ko* drivers/md/dm-verity.ko* drivers/md/dm-bufio.ko*
    drivers/virtio drivers/char/hw_random drivers/char/virtio_console.ko*
    drivers/gpu/drm/drm*.ko* drivers/gpu/drm/display drivers/gpu/drm/virtio drivers/gpu/drm/ttm
    drivers/gpu/drm/i915 drivers/gpu/drm/amd drivers/gpu/drm/radeon drivers/gpu/drm/nouveau
    drivers/gpu/drm/tiny drivers/gpu/drm/scheduler drivers/gpu/drm/bochs drivers/gpu/drm/qxl
    drivers/gpu/drm/vmwgfx drivers/gpu/drm/drm_kms_helper.ko* drivers/video drivers/platform/x86
    drivers/acpi drivers/i2c/algos drivers/i2c/busses/i2c-algo-bit.ko* drivers/i2c/i2c-core.ko*
    drivers/hid drivers/input drivers/usb/host drivers/usb/core drivers/usb/common drivers/usb/storage
    drivers/usb/class drivers/usb/misc drivers/usb/typec drivers/thunderbolt
    sound/core sound/pci/hda sound/hda sound/usb sound/soundcore.ko* sound/x86 sound/soc/sof
    drivers/net/virtio_net.ko* drivers/net/net_failover.ko* drivers/net/mii.ko* drivers/net/phy
    drivers/net/mdio drivers/net/ethernet/intel/e1000 drivers/net/ethernet/intel/e1000e
    drivers/net/ethernet/intel/igb drivers/net/ethernet/intel/igc drivers/net/ethernet/realtek
    drivers/net/usb net/core net/packet net/ipv6 net/ipv4 net/core drivers/dma-buf drivers/iommu
    drivers/pci drivers/mfd drivers/firmware drivers/rtc drivers/cpufreq drivers/thermal
)
read -r -a extra_keep <<<"${KEEP_MODULES:-}"

for kdir in "$tree"/usr/lib/modules/*/; do
    kver=$(basename "$kdir")
    [[ -d "$kdir/kernel" ]] || continue
    keep_list=$(mktemp)
    for p in "${default_keep[@]}" "${extra_keep[@]}"; do
        # shellcheck disable=SC2086 # globs in the keep list are intended
        (cd "$kdir/kernel" && ls -d $p 2>/dev/null) || true
    done | sed 's|/$||' >"$keep_list"
    # Delete every module file not under a kept path (a kept path is a file, or a folder prefix).
    (cd "$kdir/kernel" && find . -name '*.ko*' -type f | sed 's|^\./||') |
        awk -v keep="$keep_list" 'BEGIN { while ((getline k < keep) > 0) kept[k] = 1 }
            { p = $0; hit = 0
              while (p != "") { if (p in kept) { hit = 1; break }
                                if (sub(/\/[^\/]*$/, "", p) == 0) break }
              if (!hit) print }' |
        (cd "$kdir/kernel" && xargs -r rm -f)
    find "$kdir/kernel" -type d -empty -delete
    rm -f "$keep_list"
    # The image's own depmod (the build host may have no kmod).
    chroot "$tree" depmod -a "$kver"
    echo "    modules for $kver: $(du -sm "$kdir" | cut -f1) MiB kept"
done

# Package-manager state and caches: the root is read-only and never updated by apt (updates are
# whole images). mkosi's manifest (image.manifest) records what is installed.
rm -rf "$tree"/var/lib/apt "$tree"/var/cache/apt "$tree"/var/lib/dpkg "$tree"/usr/bin/apt* "$tree"/usr/lib/apt "$tree"/var/cache/debconf/*-old \
       "$tree"/var/lib/dpkg/*-old "$tree"/var/log/* "$tree"/var/cache/man "$tree"/var/cache/ldconfig/aux-cache
# Documentation and translations (dpkg already skipped most via mkosi's WithDocs=no).
rm -rf "$tree"/usr/share/doc/* "$tree"/usr/share/man "$tree"/usr/share/info "$tree"/usr/share/lintian \
       "$tree"/usr/share/bug "$tree"/usr/share/gtk-doc
find "$tree/usr/share/locale" -mindepth 1 -maxdepth 1 ! -name 'locale.alias' -exec rm -rf {} + 2>/dev/null || true
find "$tree/usr/share/qt6/translations" -mindepth 1 -delete 2>/dev/null || true
# GStreamer: only the plugins Saffron's explicit decode pipelines name (media/video/
# DecoderCandidates.cpp), then the libraries only the removed plugins needed (prune-libs.py):
#   coreelements (queue, capsfilter), app (appsrc/appsink)     gstreamer, plugins-base
#   videoparsersbad (h264parse h265parse vp9parse jpegparse)    plugins-bad
#   jpeg (jpegdec), vpx (vp8dec vp9dec), video4linux2 (v4l2*dec) plugins-good
#   va (va*dec), nvcodec (nv*dec), v4l2codecs (v4l2sl*dec)      plugins-bad: hardware decode
#   vaapi (vaapi*dec)                                           gstreamer1.0-vaapi
#   libav (avdec_*: the software fallback for H.264/H.265)      gstreamer1.0-libav
# MESA_DRIVERS=none (software-rendered recipes: cage on pixman, Qt Quick's software backend)
# also drops Mesa's GL/Vulkan/VDPAU drivers and its LLVM-based VA drivers, and with them
# libLLVM and libz3 (~190 MB); Intel's iHD VA driver does not use LLVM and stays.
gst_keep=${KEEP_GST_PLUGINS:-"coreelements app videoparsersbad jpeg vpx video4linux2 va nvcodec v4l2codecs vaapi libav"}
# Every recipe also drops what dependencies bring and a Qt Quick kiosk never loads:
#   GTK 3's input-method and print modules (GTK came with plugins removed above; with its modules
#     gone, libgtk-3, cups, atk... go as orphans);
#   the Intel Media SDK runtime (libmfxhw64 and its codec plugins): only libavcodec's QSV codecs
#     would load it through the libmfx dispatcher, which stays because libavcodec links it; the
#     shell's pipelines use avdec_* (software) and VA/nvcodec/V4L2 for hardware;
#   the Qt Quick Controls styles the shell does not use (it uses Fusion, which builds on Basic);
#   Qt Wayland's compositor side (the shell is a Wayland client of cage);
#   General MIDI sound fonts (for fluidsynth, whose plugin is gone).
drops=(--drop 'usr/lib/x86_64-linux-gnu/gtk-3.0/**' --drop 'usr/lib/x86_64-linux-gnu/libgtk-3-0/*'
       --drop 'usr/lib/x86_64-linux-gnu/libmfxhw64.so*' --drop 'usr/lib/x86_64-linux-gnu/libmfx-tracer.so*'
       --drop 'usr/lib/x86_64-linux-gnu/mfx/*'
       --drop 'usr/lib/x86_64-linux-gnu/qt6/qml/QtQuick/Controls/Imagine/**'
       --drop 'usr/lib/x86_64-linux-gnu/qt6/qml/QtQuick/Controls/Material/**'
       --drop 'usr/lib/x86_64-linux-gnu/qt6/qml/QtQuick/Controls/Universal/**'
       --drop 'usr/lib/x86_64-linux-gnu/qt6/plugins/wayland-graphics-integration-server/*'
       --drop 'usr/lib/x86_64-linux-gnu/qt6/qml/QtWayland/Compositor/**'
       --drop 'usr/share/sounds/sf2/*')
if [[ "${MESA_DRIVERS:-keep}" == none ]]; then
    drops+=(--drop 'usr/lib/x86_64-linux-gnu/dri/*_dri.so'
           --drop 'usr/lib/x86_64-linux-gnu/dri/radeonsi_drv_video.so' --drop 'usr/lib/x86_64-linux-gnu/dri/r600_drv_video.so'
           --drop 'usr/lib/x86_64-linux-gnu/dri/nouveau_drv_video.so' --drop 'usr/lib/x86_64-linux-gnu/dri/virtio_gpu_drv_video.so'
           --drop 'usr/lib/x86_64-linux-gnu/dri/d3d12_drv_video.so' --drop 'usr/lib/x86_64-linux-gnu/vdpau/*'
           --drop 'usr/lib/x86_64-linux-gnu/libvulkan_*.so')
fi
python3 "$(dirname "$0")/prune-libs.py" "$tree" --gst-keep "$gst_keep" "${drops[@]}"
# The GStreamer registry is rebuilt on first use (in the kiosk user's cache on /var).
rm -f "$tree"/var/cache/gstreamer-1.0/* "$tree"/root/.cache/gstreamer-1.0/* 2>/dev/null || true
# Icon themes come with GTK (a dependency of packages, not used by a Qt Quick kiosk); keep only
# the cursor themes cage draws its pointer from.
find "$tree/usr/share/icons" -mindepth 2 -maxdepth 2 ! -name cursors ! -name index.theme -exec rm -rf {} + 2>/dev/null || true

# The initrd is built; its generator is not needed on a read-only root.
rm -rf "$tree"/usr/lib/dracut "$tree"/usr/bin/dracut "$tree"/usr/bin/lsinitrd
# Python bytecode caches, if any package shipped Python.
find "$tree" -name '__pycache__' -type d -prune -exec rm -rf {} +

# No compilers on the appliance: fail loudly if one slipped in through a dependency.
for c in gcc cc c++ g++ clang cpp; do
    if [[ -e "$tree/usr/bin/$c" ]]; then
        echo "prune: compiler /usr/bin/$c found in the image" >&2
        exit 1
    fi
done
echo "    pruned $((before - $(du -sm "$tree" | cut -f1))) MiB"
