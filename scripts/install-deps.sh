#!/usr/bin/env bash
# Installs every Debian 12 package that building, running the demo and running the
# test suite need. Idempotent; safe to run on every `make demo` / `make test`.
set -euo pipefail

PKGS=(
  # toolchain
  build-essential cmake ninja-build pkg-config clang libclang-rt-14-dev
  # libraries the product links
  qt6-base-dev qt6-base-dev-tools libqt6opengl6-dev
  libssl-dev liblz4-dev libjpeg-dev zlib1g-dev libyuv-dev
  libspice-protocol-dev
  # the Qt Quick shell: QML runtime modules, QRhi (private headers, for partial texture
  # uploads), Qt Virtual Keyboard for touch kiosks, systemd notify/journal
  qt6-declarative-dev qt6-declarative-private-dev qt6-base-private-dev qt6-shadertools-dev
  qml6-module-qtquick qml6-module-qtquick-controls qml6-module-qtquick-layouts
  qml6-module-qtquick-window qml6-module-qtquick-templates qml6-module-qtqml-workerscript
  qt6-virtualkeyboard-dev qml6-module-qtquick-virtualkeyboard qt6-l10n-tools libsystemd-dev
  # USB redirection: libusb, usbredirhost/parser; umockdev fakes devices in the tests; usb.ids names
  libusb-1.0-0-dev libusbredirhost-dev libusbredirparser-dev umockdev libumockdev-dev usb.ids
  # video: GStreamer 1.22 with explicit decoder pipelines (software, VA-API, nvcodec, V4L2)
  libgstreamer1.0-dev libgstreamer-plugins-base1.0-dev gstreamer1.0-tools
  gstreamer1.0-plugins-base gstreamer1.0-plugins-good gstreamer1.0-plugins-bad gstreamer1.0-libav
  # video tests/bench: x264enc for test clips, and libspice-server's GStreamer encoders
  gstreamer1.0-plugins-ugly
  # audio: PipeWire's native API and Opus; the tests run a private pipewire + wireplumber
  libpipewire-0.3-dev libopus-dev pipewire pipewire-bin wireplumber dbus
  # bench_audio: remote-viewer (spice-gtk) plays through PulseAudio, served by PipeWire
  pipewire-pulse
  # test peers: the real SPICE servers, the reference client, tools
  libspice-server-dev qemu-system-x86 seabios
  virt-viewer xvfb xauth x11-apps libx11-6 libxtst6 openssl socat procps iproute2 python3
  # the appliance's compositor and Qt's Wayland platform: the shell under a headless cage,
  # and grim for screenshots of its outputs
  cage qt6-wayland grim
  # make soak: heap profile of a long streaming session
  heaptrack
  # demo guest: a busybox initramfs booting Debian's kernel
  busybox-static cpio gzip
  # fonts so offscreen screenshots have readable text
  fonts-dejavu-core
)

# `install-deps.sh image`: also what building and boot-testing the appliance image needs.
if [[ "${1:-}" == image ]]; then
  PKGS+=(mkosi debootstrap systemd-container squashfs-tools dosfstools mtools fdisk binutils zstd
         e2fsprogs dpkg-dev systemd-boot-efi ovmf rauc openssl)
fi

missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "install-deps: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
