# LZ-family image decoders: LZ_RGB and LZ_PLT (LzDecoder), GLZ_RGB and ZLIB_GLZ_RGB through the
# session-wide GLZ dictionary (GlzDictionary), and JPEG_ALPHA (JpegAlphaDecoder).
target_sources(saffron_session PRIVATE
    ${CMAKE_CURRENT_LIST_DIR}/LzDecoder.h
    ${CMAKE_CURRENT_LIST_DIR}/LzDecoder.cpp
    ${CMAKE_CURRENT_LIST_DIR}/GlzDictionary.h
    ${CMAKE_CURRENT_LIST_DIR}/GlzDictionary.cpp
    ${CMAKE_CURRENT_LIST_DIR}/JpegAlphaDecoder.h
    ${CMAKE_CURRENT_LIST_DIR}/JpegAlphaDecoder.cpp)

# ZLIB_GLZ_RGB images are deflated GLZ streams (spice-server zlib-encoder.c).
pkg_check_modules(ZLIB_PC REQUIRED IMPORTED_TARGET zlib)
target_link_libraries(saffron_session PRIVATE PkgConfig::ZLIB_PC)

# The token loops are the hot path of every LZ/GLZ image; as for the other pixel decoders
# (sources.cmake), GCC vectorises the per-pixel loops only from -O3.
set_source_files_properties(
    ${CMAKE_CURRENT_LIST_DIR}/LzDecoder.cpp
    ${CMAKE_CURRENT_LIST_DIR}/GlzDictionary.cpp
    TARGET_DIRECTORY saffron_session
    PROPERTIES COMPILE_OPTIONS "$<$<NOT:$<CONFIG:Debug>>:-O3>")
