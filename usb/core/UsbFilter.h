#pragma once

#include "UsbDeviceInfo.h"

#include <QString>
#include <optional>
#include <vector>

struct usbredirfilter_rule;

namespace saffron {

// A spice-gtk / remote-viewer / RHEV-M USB filter: "class,vendor,product,version,allow|...".
// Parsing and matching are usbredirparser's own (usbredirfilter_string_to_rules and
// usbredirfilter_check), so a filter means here exactly what it means to spice-gtk and to
// usbredirhost: numbers as C strtol base 0 reads them ("0x03", "3", octal "010"), -1 for "any",
// empty rules between separators ignored, first matching rule wins.
//
// usbredirfilter_check classifies a device by its device class, and then by each interface class:
// device classes 0x00 (per interface) and 0xef (miscellaneous) skip the device-class pass, so an
// HID keyboard (device class 0, interface class 3) is matched by a class-3 rule. Every pass that
// is checked must allow; a pass with no matching rule is "no match".
class UsbFilter {
public:
    struct Rule {
        int deviceClass = -1;
        int vendorId = -1;
        int productId = -1;
        int versionBcd = -1;
        bool allow = false;
        bool operator==(const Rule&) const = default;
    };
    enum class Result { Allowed, Blocked, NoMatch };

    UsbFilter() = default;
    // On failure returns nullopt and a message naming the rule and field at fault in `error`.
    static std::optional<UsbFilter> parse(const QString& text, QString* error = nullptr);

    bool isEmpty() const { return rules_.empty(); }
    const std::vector<Rule>& rules() const { return rules_; }
    Result check(const UsbDeviceInfo& device) const;
    // The canonical string form (usbredirfilter_rules_to_string).
    QString toString() const;

private:
    std::vector<Rule> rules_;
};

} // namespace saffron
