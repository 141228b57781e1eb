# Appliance integration of the shell (issue 7 "Appliance integration", issue 9 "Security
# defaults"): settings, connection catalog, admin PIN, command line, systemd and journal, the updater's status.
# Plain QtCore classes; the Qt Quick UI (shell/app) uses them.
target_sources(saffron_shell_common PRIVATE
    ${CMAKE_CURRENT_LIST_DIR}/AdminPin.cpp
    ${CMAKE_CURRENT_LIST_DIR}/AdminPin.h
    ${CMAKE_CURRENT_LIST_DIR}/AtomicFile.cpp
    ${CMAKE_CURRENT_LIST_DIR}/AtomicFile.h
    ${CMAKE_CURRENT_LIST_DIR}/CommandLine.cpp
    ${CMAKE_CURRENT_LIST_DIR}/CommandLine.h
    ${CMAKE_CURRENT_LIST_DIR}/ConnectionCatalog.cpp
    ${CMAKE_CURRENT_LIST_DIR}/ConnectionCatalog.h
    ${CMAKE_CURRENT_LIST_DIR}/JournalLog.cpp
    ${CMAKE_CURRENT_LIST_DIR}/JournalLog.h
    ${CMAKE_CURRENT_LIST_DIR}/KeySequenceSpec.cpp
    ${CMAKE_CURRENT_LIST_DIR}/KeySequenceSpec.h
    ${CMAKE_CURRENT_LIST_DIR}/ReconnectBackoff.cpp
    ${CMAKE_CURRENT_LIST_DIR}/ReconnectBackoff.h
    ${CMAKE_CURRENT_LIST_DIR}/SessionBusAddress.cpp
    ${CMAKE_CURRENT_LIST_DIR}/SessionBusAddress.h
    ${CMAKE_CURRENT_LIST_DIR}/ShellSettings.cpp
    ${CMAKE_CURRENT_LIST_DIR}/ShellSettings.h
    ${CMAKE_CURRENT_LIST_DIR}/SystemdNotifier.cpp
    ${CMAKE_CURRENT_LIST_DIR}/SystemdNotifier.h
    ${CMAKE_CURRENT_LIST_DIR}/UpdateStatus.cpp
    ${CMAKE_CURRENT_LIST_DIR}/UpdateStatus.h
)
pkg_check_modules(LIBSYSTEMD REQUIRED IMPORTED_TARGET libsystemd)
target_link_libraries(saffron_shell_common PUBLIC PkgConfig::LIBSYSTEMD OpenSSL::Crypto)
