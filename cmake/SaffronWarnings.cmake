# Our own targets build with warnings as errors; third-party headers are SYSTEM includes.
function(saffron_warnings target)
    target_compile_options(${target} PRIVATE -Wall -Wextra -Werror -Wno-missing-field-initializers)
endfunction()
