#include "GstHandles.h"

#include "MediaLog.h"

#include <mutex>

namespace saffron {

bool ensureGstInitialized() {
    static std::once_flag once;
    static bool ok = false;
    std::call_once(once, [] {
        GError* raw = nullptr;
        // No argc/argv: GStreamer's own command-line options are not ours to parse; its
        // environment variables (GST_DEBUG, GST_PLUGIN_PATH...) still apply.
        ok = gst_init_check(nullptr, nullptr, &raw);
        GErrorPtr error(raw);
        if (!ok) {
            qCWarning(lcMedia) << "GStreamer initialisation failed:"
                               << (error ? error->message : "unknown error") << "- no video decoding";
        } else {
            GCharPtr version(gst_version_string());
            qCDebug(lcMedia) << "using" << version.get();
        }
    });
    return ok;
}

std::string describeGstMessage(GstMessage* message) {
    GError* raw = nullptr;
    gchar* debugRaw = nullptr;
    if (GST_MESSAGE_TYPE(message) == GST_MESSAGE_ERROR) {
        gst_message_parse_error(message, &raw, &debugRaw);
    } else if (GST_MESSAGE_TYPE(message) == GST_MESSAGE_WARNING) {
        gst_message_parse_warning(message, &raw, &debugRaw);
    } else {
        return GST_MESSAGE_TYPE_NAME(message);
    }
    GErrorPtr error(raw);
    GCharPtr debug(debugRaw);
    std::string text = GST_MESSAGE_SRC(message) ? GST_OBJECT_NAME(GST_MESSAGE_SRC(message)) : "pipeline";
    text += ": ";
    text += error ? error->message : "unknown error";
    if (debug) {
        qCDebug(lcMedia) << text.c_str() << "-" << debug.get();
    }
    return text;
}

} // namespace saffron
