# SPICE QUIC image decoder (SPICE_IMAGE_TYPE_QUIC), included from codecs/sources.cmake.
target_sources(saffron_session PRIVATE
    ${CMAKE_CURRENT_LIST_DIR}/QuicDecoder.h
    ${CMAKE_CURRENT_LIST_DIR}/QuicDecoder.cpp)

# The decoder is a bit-serial loop made of small inline helpers (span and array accessors,
# the bit reader). Unoptimised (-O0) it runs about 25 times slower, 3 MB/s, i.e. seconds per
# full-HD QUIC image in a Debug client and minutes for its unit test; -Og keeps it debuggable
# and within 2x of -O2. Release builds keep their own flags (-O3 measured no faster than -O2).
set_source_files_properties(
    ${CMAKE_CURRENT_LIST_DIR}/QuicDecoder.cpp
    TARGET_DIRECTORY saffron_session
    PROPERTIES COMPILE_OPTIONS "$<$<CONFIG:Debug>:-Og>")
