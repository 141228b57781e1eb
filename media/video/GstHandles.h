#pragma once

// Owning handles for the GStreamer and GLib objects saffron_media uses. Every reference we hold is
// a unique_ptr with the matching unref, so early returns and exceptions cannot leak a pipeline
// (which would keep decoder threads and hardware contexts alive).

#include <gst/app/gstappsink.h>
#include <gst/app/gstappsrc.h>
#include <gst/gst.h>
#include <gst/video/video.h>
#include <memory>
#include <string>

namespace saffron {

namespace gstdetail {
struct ObjectUnref {
    void operator()(gpointer p) const { gst_object_unref(p); }
};
struct CapsUnref {
    void operator()(GstCaps* p) const { gst_caps_unref(p); }
};
struct SampleUnref {
    void operator()(GstSample* p) const { gst_sample_unref(p); }
};
struct BufferUnref {
    void operator()(GstBuffer* p) const { gst_buffer_unref(p); }
};
struct MessageUnref {
    void operator()(GstMessage* p) const { gst_message_unref(p); }
};
struct ErrorFree {
    void operator()(GError* p) const { g_error_free(p); }
};
struct GFree {
    void operator()(gchar* p) const { g_free(p); }
};
struct ConverterFree {
    void operator()(GstVideoConverter* p) const { gst_video_converter_free(p); }
};
} // namespace gstdetail

// A strong (non-floating) reference to a GstObject subclass.
template <typename T> using GstObjectPtr = std::unique_ptr<T, gstdetail::ObjectUnref>;
using ElementPtr = GstObjectPtr<GstElement>;
using BusPtr = GstObjectPtr<GstBus>;
using PadPtr = GstObjectPtr<GstPad>;
using CapsPtr = std::unique_ptr<GstCaps, gstdetail::CapsUnref>;
using SamplePtr = std::unique_ptr<GstSample, gstdetail::SampleUnref>;
using BufferPtr = std::unique_ptr<GstBuffer, gstdetail::BufferUnref>;
using MessagePtr = std::unique_ptr<GstMessage, gstdetail::MessageUnref>;
using GErrorPtr = std::unique_ptr<GError, gstdetail::ErrorFree>;
using GCharPtr = std::unique_ptr<gchar, gstdetail::GFree>;
using VideoConverterPtr = std::unique_ptr<GstVideoConverter, gstdetail::ConverterFree>;

// Takes ownership of a freshly created element: sinks the floating reference so the handle owns
// exactly one strong reference whether or not the element is later added to a bin (gst_bin_add
// then takes its own).
inline ElementPtr adoptElement(GstElement* element) {
    if (element) {
        gst_object_ref_sink(element);
    }
    return ElementPtr(element);
}

// An extra strong reference to an object owned elsewhere (e.g. an element inside a bin).
template <typename T> GstObjectPtr<T> refObject(T* object) {
    if (object) {
        gst_object_ref(object);
    }
    return GstObjectPtr<T>(object);
}

// gst_init exactly once per process, from whichever thread gets here first (std::call_once).
// Returns false, and logs why, when GStreamer cannot initialise; every later call returns the
// same answer without retrying.
bool ensureGstInitialized();

// "element-name: message" from an error or warning message, for logs and error callbacks.
std::string describeGstMessage(GstMessage* message);

// A mapped GstVideoFrame that unmaps itself. Movable, not copyable.
class MappedVideoFrame {
public:
    MappedVideoFrame() = default;
    ~MappedVideoFrame() { reset(); }
    MappedVideoFrame(const MappedVideoFrame&) = delete;
    MappedVideoFrame& operator=(const MappedVideoFrame&) = delete;
    MappedVideoFrame(MappedVideoFrame&& other) noexcept : m_frame(other.m_frame), m_mapped(other.m_mapped) {
        other.m_mapped = false;
    }
    MappedVideoFrame& operator=(MappedVideoFrame&& other) noexcept {
        if (this != &other) {
            reset();
            m_frame = other.m_frame;
            m_mapped = other.m_mapped;
            other.m_mapped = false;
        }
        return *this;
    }

    // Maps `buffer` described by `info`; the frame holds its own reference to the buffer.
    bool map(const GstVideoInfo& info, GstBuffer* buffer, GstMapFlags flags) {
        reset();
        m_mapped = gst_video_frame_map(&m_frame, const_cast<GstVideoInfo*>(&info), buffer, flags);
        return m_mapped;
    }
    void reset() {
        if (m_mapped) {
            gst_video_frame_unmap(&m_frame);
            m_mapped = false;
        }
    }
    bool isMapped() const { return m_mapped; }
    GstVideoFrame* get() { return &m_frame; }
    const GstVideoFrame* get() const { return &m_frame; }

private:
    GstVideoFrame m_frame{};
    bool m_mapped = false;
};

} // namespace saffron
