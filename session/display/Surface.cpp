#include "display/Surface.h"

#include <spice/enums.h>

namespace saffron {

bool Surface::hasAlpha() const {
    return format == SPICE_SURFACE_FMT_32_ARGB || format == SPICE_SURFACE_FMT_8_A;
}

} // namespace saffron
