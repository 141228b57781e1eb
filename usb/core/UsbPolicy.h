#pragma once

#include "UsbDeviceInfo.h"
#include "UsbFilter.h"

#include <QString>
#include <optional>
#include <vector>

namespace saffron {

// Which devices may leave this machine, and which go to the hosted desktop on their own.
//
// Two inputs, usable together:
//  - spice-gtk / remote-viewer filter strings (UsbFilter): a "may redirect" filter, an
//    "auto-redirect on plug" filter (spice-gtk's auto-connect-filter) and a "redirect on connect"
//    filter (spice-gtk's redirect-on-connect);
//  - our readable rules, one per line (format in usb/core/README.md):
//        deny class=hid            allow vendor=0781 product=*     allow port=1-2.*
//        auto vendor=0781          auto-plug class=storage         auto-connect bus=3
//        noauto class=audio        redirect-filter = 0x08,-1,-1,-1,1|-1,-1,-1,-1,0
//
// decide() applies, in this order:
//  1. a matching `deny` rule: never redirected ("deny always wins", whatever the order of lines
//     or what a filter or allow rule says);
//  2. the redirect filter, if set: the device must pass it (usbredirfilter_check == allowed);
//  3. if any `allow` rule exists, the device must match one (otherwise everything not denied may
//     be redirected);
//  4. automatic redirection, only for a device that may be redirected: never for an HID keyboard
//     or mouse (UsbDeviceInfo::isHidInputDevice: the local input must keep working) nor for a
//     `noauto` match; else on plug if an `auto`/`auto-plug` rule matches or the auto filter
//     allows it, and on connect if an `auto`/`auto-connect` rule matches or the connect filter
//     allows it.
// Every decision carries a reason a person can read.
class UsbPolicy {
public:
    struct Decision {
        bool mayRedirect = false;
        bool autoRedirect = false;      // when plugged in during a session
        bool redirectOnConnect = false; // when present as the session connects
        QString reason;
    };

    enum class Verb { Deny, Allow, Auto, AutoPlug, AutoConnect, NoAuto };
    // One readable rule: every condition that is set must hold.
    struct Rule {
        Verb verb = Verb::Deny;
        int line = 0;
        QString text; // the line as written, for reasons
        std::optional<quint8> deviceClass;
        std::optional<quint16> vendorId;
        std::optional<quint16> productId;
        std::optional<quint16> versionBcd;
        std::optional<int> bus;
        QString portGlob;
        bool matches(const UsbDeviceInfo& device) const;
    };

    // The default policy: everything may be redirected by hand, nothing automatically.
    UsbPolicy() = default;

    // Parses the readable form (filters included). On failure returns nullopt and "line N: ..."
    // in `error`.
    static std::optional<UsbPolicy> parse(const QString& text, QString* error = nullptr);
    static std::optional<UsbPolicy> load(const QString& path, QString* error = nullptr);

    void setRedirectFilter(UsbFilter filter) { redirectFilter_ = std::move(filter); }
    void setAutoRedirectFilter(UsbFilter filter) { autoFilter_ = std::move(filter); }
    void setConnectRedirectFilter(UsbFilter filter) { connectFilter_ = std::move(filter); }
    void addRule(Rule rule) { rules_.push_back(std::move(rule)); }

    const std::vector<Rule>& rules() const { return rules_; }
    const UsbFilter& redirectFilter() const { return redirectFilter_; }
    const UsbFilter& autoRedirectFilter() const { return autoFilter_; }
    const UsbFilter& connectRedirectFilter() const { return connectFilter_; }

    Decision decide(const UsbDeviceInfo& device) const;

    // Class names accepted by `class=` (hid, storage, audio, ...), or nullopt.
    static std::optional<quint8> classFromName(const QString& name);
    // `*` matches any run of characters, `?` one character.
    static bool globMatch(QStringView pattern, QStringView text);

private:
    const Rule* firstMatch(const UsbDeviceInfo& device, std::initializer_list<Verb> verbs) const;

    std::vector<Rule> rules_;
    UsbFilter redirectFilter_;
    UsbFilter autoFilter_;
    UsbFilter connectFilter_;
};

} // namespace saffron
