target_sources(saffron_session PRIVATE
    ${CMAKE_CURRENT_LIST_DIR}/MessageFramer.h
    ${CMAKE_CURRENT_LIST_DIR}/MessageFramer.cpp
    ${CMAKE_CURRENT_LIST_DIR}/Channel.h
    ${CMAKE_CURRENT_LIST_DIR}/Channel.cpp
    ${CMAKE_CURRENT_LIST_DIR}/MainChannel.h
    ${CMAKE_CURRENT_LIST_DIR}/MainChannel.cpp
    ${CMAKE_CURRENT_LIST_DIR}/DisplayChannel.h
    ${CMAKE_CURRENT_LIST_DIR}/DisplayChannel.cpp
    ${CMAKE_CURRENT_LIST_DIR}/CursorChannel.h
    ${CMAKE_CURRENT_LIST_DIR}/CursorChannel.cpp
    ${CMAKE_CURRENT_LIST_DIR}/InputsChannel.h
    ${CMAKE_CURRENT_LIST_DIR}/InputsChannel.cpp
    ${CMAKE_CURRENT_LIST_DIR}/PlaybackChannel.h
    ${CMAKE_CURRENT_LIST_DIR}/PlaybackChannel.cpp
    ${CMAKE_CURRENT_LIST_DIR}/RecordChannel.h
    ${CMAKE_CURRENT_LIST_DIR}/RecordChannel.cpp)
