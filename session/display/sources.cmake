target_sources(saffron_session PRIVATE
    ${CMAKE_CURRENT_LIST_DIR}/Pixmap.h
    ${CMAKE_CURRENT_LIST_DIR}/Surface.h
    ${CMAKE_CURRENT_LIST_DIR}/Surface.cpp
    ${CMAKE_CURRENT_LIST_DIR}/Canvas.h
    ${CMAKE_CURRENT_LIST_DIR}/Canvas.cpp
    ${CMAKE_CURRENT_LIST_DIR}/ImageCache.h
    ${CMAKE_CURRENT_LIST_DIR}/ImageCache.cpp
    ${CMAKE_CURRENT_LIST_DIR}/DisplayMessages.h
    ${CMAKE_CURRENT_LIST_DIR}/DisplayMessages.cpp
    ${CMAKE_CURRENT_LIST_DIR}/ImageReader.h
    ${CMAKE_CURRENT_LIST_DIR}/ImageReader.cpp)
