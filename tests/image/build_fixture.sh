#!/usr/bin/env bash
# ctest fixture: builds an image (RECIPE, default kiosk) for the boot tests. Skips (77) where an
# image cannot be built: not root, or the image tools are not installed.
set -uo pipefail
src=${1:?}; out=${2:?}; recipe=${3:-kiosk}
if [[ $(id -u) -ne 0 ]]; then
    echo "image_build_$recipe: SKIP: building an image needs root (mkosi/debootstrap)"
    exit 77
fi
for tool in mkosi mksquashfs mkfs.fat mcopy; do
    if ! command -v "$tool" >/dev/null; then
        echo "image_build_$recipe: SKIP: $tool missing (scripts/install-deps.sh installs the image tools)"
        exit 77
    fi
done
exec "$src/image-build/build-image.sh" "$recipe" "$out"
