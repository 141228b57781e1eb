#pragma once

#include "UsbDeviceInfo.h"
#include "UsbPolicy.h"

#include <QObject>

namespace saffron {

class UsbMonitor;

// Turns the policy's automatic-redirection decisions into requests: a device plugged in while a
// session runs is requested if the policy auto-redirects it on plug; devices already present when
// the session connects are requested by onSessionConnected() if the policy redirects them on
// connect. It only decides: whoever owns the usbredir channels acts on redirectRequested.
class UsbAutoRedirect : public QObject {
    Q_OBJECT
public:
    // `policy` is copied; `monitor` must outlive this object.
    UsbAutoRedirect(UsbPolicy policy, UsbMonitor& monitor, QObject* parent = nullptr);

    void setPolicy(UsbPolicy policy) { policy_ = std::move(policy); }
    // Plug events are only acted on while enabled (a session is connected). Default: enabled.
    void setEnabled(bool enabled) { enabled_ = enabled; }
    // Requests every present device that the policy redirects on connect.
    void onSessionConnected();

Q_SIGNALS:
    void redirectRequested(const saffron::UsbDeviceInfo& device);
    // A plugged device that stays local, with the policy's reason (for logs and the shell).
    void redirectSkipped(const saffron::UsbDeviceInfo& device, const QString& reason);

private:
    void onDeviceAdded(const UsbDeviceInfo& device);

    UsbPolicy policy_;
    UsbMonitor& monitor_;
    bool enabled_ = true;
};

} // namespace saffron
