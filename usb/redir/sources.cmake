# The usbredir bridge: usb-host ends of usbredir streams (byte pipes, no SPICE types).
target_sources(saffron_usb PRIVATE
    ${CMAKE_CURRENT_LIST_DIR}/UsbRedirEndpoint.h
    ${CMAKE_CURRENT_LIST_DIR}/UsbRedirector.h
    ${CMAKE_CURRENT_LIST_DIR}/UsbRedirector.cpp
    ${CMAKE_CURRENT_LIST_DIR}/UsbRedirPool.h
    ${CMAKE_CURRENT_LIST_DIR}/UsbRedirPool.cpp)
