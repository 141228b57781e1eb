# Debian package of Saffron, installed into the appliance image by image-build/build-image.sh.
# The image must carry this project's own build, never a binary from elsewhere, and a .deb lets
# apt resolve the shared-library dependencies inside the image exactly as dpkg-shlibdeps computed
# them here.
#
# Included by image-build/package/CMakeLists.txt, a small project that packages the binaries of an
# existing build folder (`cpack` there) without reconfiguring that folder. The top-level
# CMakeLists.txt may include it too, after the install() rules, for `cpack -G DEB` in a build.
include_guard(GLOBAL)

set(CPACK_GENERATOR "DEB")
set(CPACK_PACKAGE_NAME "saffron")
set(CPACK_PACKAGE_VENDOR "Saffron")
set(CPACK_PACKAGE_CONTACT "Saffron maintainers <saffron@localhost>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "SPICE thin client and kiosk shell")
set(CPACK_PACKAGING_INSTALL_PREFIX "/usr")
set(CPACK_STRIP_FILES ON) # the image has no room for debug info (250 MB goal)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT) # saffron_<version>_<arch>.deb
set(CPACK_DEBIAN_PACKAGE_SECTION "net")
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON) # Depends: from the linked libraries (needs dpkg-dev)
# Not linked, so dpkg-shlibdeps cannot see them, but the shell does not start without them: the
# QML modules its Qt Quick UI imports (QtQuick, Controls with their templates and the default
# style, Layouts, Window, and WorkerScript, which QtQuick's ListView models load) and the Wayland
# QPA it uses under cage. CPack appends the shlibdeps result to this list.
set(CPACK_DEBIAN_PACKAGE_DEPENDS
    "qt6-wayland, qml6-module-qtquick, qml6-module-qtquick-controls, qml6-module-qtquick-templates, qml6-module-qtquick-layouts, qml6-module-qtquick-window, qml6-module-qtqml-workerscript")
# Used when present: GStreamer decoders/converters for the video channel, PipeWire for audio.
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS
    "gstreamer1.0-plugins-base, gstreamer1.0-plugins-good, pipewire, wireplumber")
# Loaded only when the settings enable the on-screen keyboard (touch kiosks add it to their recipe).
set(CPACK_DEBIAN_PACKAGE_SUGGESTS "qml6-module-qtquick-virtualkeyboard")
if(PROJECT_VERSION)
    set(CPACK_PACKAGE_VERSION "${PROJECT_VERSION}")
endif()
include(CPack)
