# SPICE QUIC image decoder (SPICE_IMAGE_TYPE_QUIC), included from codecs/sources.cmake.
target_sources(saffron_session PRIVATE
    ${CMAKE_CURRENT_LIST_DIR}/QuicDecoder.h
    ${CMAKE_CURRENT_LIST_DIR}/QuicDecoder.cpp)

# The decoder is a bit-serial loop made of small inline helpers (span and array accessors,
# the bit reader). Unoptimised (-O0) it runs over 20 times slower than at -O2 (14 against
# 330 MB/s on tests/bench/corpus), i.e. half a second per full-HD QUIC image in a Debug client
# and minutes for its unit test; -Og keeps it debuggable at about 60 MB/s. (-O1 would give
# almost all of -O2, 310 MB/s, at the cost of more "optimised out" variables.) Release builds
# keep their own flags (-O3 measured no faster than -O2).
set_source_files_properties(
    ${CMAKE_CURRENT_LIST_DIR}/QuicDecoder.cpp
    TARGET_DIRECTORY saffron_session
    PROPERTIES COMPILE_OPTIONS "$<$<CONFIG:Debug>:-Og>")
