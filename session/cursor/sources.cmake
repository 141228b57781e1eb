target_sources(saffron_session PRIVATE
    ${CMAKE_CURRENT_LIST_DIR}/CursorShape.h
    ${CMAKE_CURRENT_LIST_DIR}/CursorShape.cpp)
