# Connection descriptions: spice:// URIs and virt-viewer .vv files -> ConnectionSpec.
target_sources(saffron_session PRIVATE
    ${CMAKE_CURRENT_LIST_DIR}/ConnectionFields.cpp
    ${CMAKE_CURRENT_LIST_DIR}/ConnectionFields.h
    ${CMAKE_CURRENT_LIST_DIR}/ConnectionResult.h
    ${CMAKE_CURRENT_LIST_DIR}/ConnectionSpec.cpp
    ${CMAKE_CURRENT_LIST_DIR}/ConnectionSpec.h
    ${CMAKE_CURRENT_LIST_DIR}/KeyFile.cpp
    ${CMAKE_CURRENT_LIST_DIR}/KeyFile.h
    ${CMAKE_CURRENT_LIST_DIR}/SpiceUri.cpp
    ${CMAKE_CURRENT_LIST_DIR}/SpiceUri.h
    ${CMAKE_CURRENT_LIST_DIR}/VvFile.cpp
    ${CMAKE_CURRENT_LIST_DIR}/VvFile.h
)
