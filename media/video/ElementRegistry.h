#pragma once

#include <gst/gst.h>
#include <string>

namespace saffron {

// Where decoder selection gets its elements from. The real implementation asks GStreamer's
// plugin registry; tests substitute a fake that pretends hardware decoders exist (backed by a
// software decoder or by an element that fails), so every selection path can be exercised on a
// machine without a GPU.
class ElementFactoryRegistry {
public:
    virtual ~ElementFactoryRegistry() = default;
    // Whether an element of that factory name can be made here at all.
    virtual bool exists(const std::string& factory) const = 0;
    // A new element, floating reference as from gst_element_factory_make, or nullptr. The
    // caller names and owns it (adoptElement).
    virtual GstElement* make(const std::string& factory) const = 0;
    // Whether the factory drives dedicated decode hardware. Only asked for forced decoders
    // that are not in the built-in candidate tables.
    virtual bool isHardware(const std::string& factory) const = 0;
};

// GStreamer's registry (gst_element_factory_find / make). Stateless, thread safe.
class GstElementFactoryRegistry final : public ElementFactoryRegistry {
public:
    bool exists(const std::string& factory) const override;
    GstElement* make(const std::string& factory) const override;
    // From the factory's klass metadata: hardware decoders declare "Hardware"
    // (e.g. "Codec/Decoder/Video/Hardware" for va, nvcodec and v4l2 elements).
    bool isHardware(const std::string& factory) const override;
};

} // namespace saffron
