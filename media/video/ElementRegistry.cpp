#include "ElementRegistry.h"

#include "GstHandles.h"

#include <cstring>

namespace saffron {

bool GstElementFactoryRegistry::exists(const std::string& factory) const {
    if (!ensureGstInitialized()) {
        return false;
    }
    GstObjectPtr<GstElementFactory> found(gst_element_factory_find(factory.c_str()));
    return found != nullptr;
}

GstElement* GstElementFactoryRegistry::make(const std::string& factory) const {
    if (!ensureGstInitialized()) {
        return nullptr;
    }
    return gst_element_factory_make(factory.c_str(), nullptr);
}

bool GstElementFactoryRegistry::isHardware(const std::string& factory) const {
    if (!ensureGstInitialized()) {
        return false;
    }
    GstObjectPtr<GstElementFactory> found(gst_element_factory_find(factory.c_str()));
    if (!found) {
        return false;
    }
    const gchar* klass = gst_element_factory_get_metadata(found.get(), GST_ELEMENT_METADATA_KLASS);
    return klass && std::strstr(klass, "Hardware") != nullptr;
}

} // namespace saffron
