target_sources(saffron_session PRIVATE
    ${CMAKE_CURRENT_LIST_DIR}/Scancodes.h
    ${CMAKE_CURRENT_LIST_DIR}/Scancodes.cpp)
