target_sources(saffron_session PRIVATE
    ${CMAKE_CURRENT_LIST_DIR}/MultimediaClock.h
    ${CMAKE_CURRENT_LIST_DIR}/PicturePool.h
    ${CMAKE_CURRENT_LIST_DIR}/PicturePool.cpp
    ${CMAKE_CURRENT_LIST_DIR}/StreamReporter.h
    ${CMAKE_CURRENT_LIST_DIR}/StreamReporter.cpp
    ${CMAKE_CURRENT_LIST_DIR}/VideoStats.h
    ${CMAKE_CURRENT_LIST_DIR}/VideoStreams.h
    ${CMAKE_CURRENT_LIST_DIR}/VideoStreams.cpp)
