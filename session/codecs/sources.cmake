# Pixel decoders for SPICE images: uncompressed bitmaps, LZ4 and JPEG. Pure functions over
# spans of untrusted bytes; the display channel parses the Image structure and calls them.
target_sources(saffron_session PRIVATE
    ${CMAKE_CURRENT_LIST_DIR}/PixelRows.h
    ${CMAKE_CURRENT_LIST_DIR}/BitmapDecoder.h
    ${CMAKE_CURRENT_LIST_DIR}/BitmapDecoder.cpp
    ${CMAKE_CURRENT_LIST_DIR}/Lz4ImageDecoder.h
    ${CMAKE_CURRENT_LIST_DIR}/Lz4ImageDecoder.cpp
    ${CMAKE_CURRENT_LIST_DIR}/JpegDecoder.h
    ${CMAKE_CURRENT_LIST_DIR}/JpegDecoder.cpp)

# The per-pixel row loops (PixelRows.h) are the thin client's hot path for every full-screen
# update. GCC 12 only auto-vectorises them from -O3 (at -O2 its "very cheap" cost model skips
# them): 16- and 24-bit full-HD conversions take about half the time. Debug builds are left alone.
set_source_files_properties(
    ${CMAKE_CURRENT_LIST_DIR}/BitmapDecoder.cpp
    ${CMAKE_CURRENT_LIST_DIR}/Lz4ImageDecoder.cpp
    TARGET_DIRECTORY saffron_session
    PROPERTIES COMPILE_OPTIONS "$<$<NOT:$<CONFIG:Debug>>:-O3>")
include(${CMAKE_CURRENT_LIST_DIR}/quic.cmake)
include(${CMAKE_CURRENT_LIST_DIR}/lz.cmake)
