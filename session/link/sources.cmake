target_sources(saffron_session PRIVATE
    ${CMAKE_CURRENT_LIST_DIR}/Capabilities.h
    ${CMAKE_CURRENT_LIST_DIR}/LinkProtocol.h
    ${CMAKE_CURRENT_LIST_DIR}/LinkProtocol.cpp
    ${CMAKE_CURRENT_LIST_DIR}/TicketCipher.h
    ${CMAKE_CURRENT_LIST_DIR}/TicketCipher.cpp
    ${CMAKE_CURRENT_LIST_DIR}/HostSubject.h
    ${CMAKE_CURRENT_LIST_DIR}/HostSubject.cpp)
