# usb/core: libusb context + event thread, device model, usb.ids names, hotplug monitor, redirect
# policy. See README.md in this folder for the policy file format.
target_sources(saffron_usb PRIVATE
    ${CMAKE_CURRENT_LIST_DIR}/UsbContext.cpp
    ${CMAKE_CURRENT_LIST_DIR}/UsbContext.h
    ${CMAKE_CURRENT_LIST_DIR}/UsbIds.cpp
    ${CMAKE_CURRENT_LIST_DIR}/UsbIds.h
    ${CMAKE_CURRENT_LIST_DIR}/UsbDeviceInfo.cpp
    ${CMAKE_CURRENT_LIST_DIR}/UsbDeviceInfo.h
    ${CMAKE_CURRENT_LIST_DIR}/UsbMonitor.cpp
    ${CMAKE_CURRENT_LIST_DIR}/UsbMonitor.h
    ${CMAKE_CURRENT_LIST_DIR}/UsbFilter.cpp
    ${CMAKE_CURRENT_LIST_DIR}/UsbFilter.h
    ${CMAKE_CURRENT_LIST_DIR}/UsbPolicy.cpp
    ${CMAKE_CURRENT_LIST_DIR}/UsbPolicy.h
    ${CMAKE_CURRENT_LIST_DIR}/UsbAutoRedirect.cpp
    ${CMAKE_CURRENT_LIST_DIR}/UsbAutoRedirect.h)
