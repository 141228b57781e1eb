#include "UsbFilter.h"

#include <QStringList>
#include <cerrno>
#include <climits>
#include <cstdlib>
#include <memory>
#include <string>
#include <usbredirfilter.h>

namespace saffron {

namespace {

struct FilterFree {
    void operator()(void* p) const { usbredirfilter_free(p); }
};

const char* const kFieldNames[5] = {"class", "vendor", "product", "version", "allow"};
const long kFieldMax[5] = {255, 65535, 65535, 65535, LONG_MAX};

// Re-checks one rule the way usbredirfilter_string_to_rules reads it (strtok on ",", strtol base
// 0), only to say precisely what is wrong: the library itself reports just -EINVAL.
QString explainRule(const std::string& rule, int ruleNumber) {
    std::vector<std::string> tokens;
    std::size_t pos = 0;
    while (pos < rule.size()) {
        const std::size_t start = rule.find_first_not_of(',', pos);
        if (start == std::string::npos)
            break;
        const std::size_t end = rule.find(',', start);
        tokens.push_back(rule.substr(start, end == std::string::npos ? end : end - start));
        pos = end == std::string::npos ? rule.size() : end;
    }
    const QString where =
        QStringLiteral("rule %1 (\"%2\")").arg(ruleNumber).arg(QString::fromStdString(rule));
    if (tokens.size() != 5)
        return QStringLiteral("%1: expected 5 fields class,vendor,product,version,allow, got %2")
            .arg(where)
            .arg(tokens.size());
    for (std::size_t i = 0; i < 5; ++i) {
        errno = 0;
        char* end = nullptr;
        const long value = std::strtol(tokens[i].c_str(), &end, 0);
        if (end == tokens[i].c_str() || *end != '\0')
            return QStringLiteral("%1: %2 \"%3\" is not a number (use decimal, 0x hex, or -1)")
                .arg(where, QLatin1String(kFieldNames[i]), QString::fromStdString(tokens[i]));
        if (errno == ERANGE || value < (i == 4 ? INT_MIN : -1) || value > kFieldMax[i] || value > INT_MAX)
            return QStringLiteral("%1: %2 %3 is out of range (-1 or 0..%4)")
                .arg(where, QLatin1String(kFieldNames[i]), QString::fromStdString(tokens[i]))
                .arg(kFieldMax[i] == LONG_MAX ? INT_MAX : kFieldMax[i]);
    }
    return {};
}

} // namespace

std::optional<UsbFilter> UsbFilter::parse(const QString& text, QString* error) {
    auto fail = [error](const QString& message) -> std::optional<UsbFilter> {
        if (error)
            *error = message;
        return std::nullopt;
    };
    const std::string utf8 = text.toStdString();
    if (utf8.find('\0') != std::string::npos)
        return fail(QStringLiteral("filter contains a NUL character"));

    // Our own pass first, for messages; it accepts exactly what the library accepts except that
    // it refuses values strtol would silently truncate into range when stored in an int.
    int ruleNumber = 0;
    std::size_t pos = 0;
    while (pos < utf8.size()) {
        const std::size_t start = utf8.find_first_not_of('|', pos);
        if (start == std::string::npos)
            break;
        const std::size_t end = utf8.find('|', start);
        const std::string rule = utf8.substr(start, end == std::string::npos ? end : end - start);
        ++ruleNumber;
        const QString problem = explainRule(rule, ruleNumber);
        if (!problem.isEmpty())
            return fail(problem);
        pos = end == std::string::npos ? utf8.size() : end;
    }

    if (ruleNumber == 0)
        return UsbFilter();

    usbredirfilter_rule* rawRules = nullptr;
    int count = 0;
    const int rc = usbredirfilter_string_to_rules(utf8.c_str(), ",", "|", &rawRules, &count);
    std::unique_ptr<usbredirfilter_rule, FilterFree> owned(rawRules);
    if (rc != 0)
        return fail(QStringLiteral("filter rejected by usbredirfilter (error %1)").arg(rc));

    UsbFilter filter;
    for (int i = 0; i < count; ++i) {
        const usbredirfilter_rule& r = rawRules[i];
        filter.rules_.push_back(
            Rule{r.device_class, r.vendor_id, r.product_id, r.device_version_bcd, r.allow != 0});
    }
    return filter;
}

UsbFilter::Result UsbFilter::check(const UsbDeviceInfo& device) const {
    std::vector<usbredirfilter_rule> rules;
    rules.reserve(rules_.size());
    for (const Rule& r : rules_)
        rules.push_back(
            usbredirfilter_rule{r.deviceClass, r.vendorId, r.productId, r.versionBcd, r.allow ? 1 : 0});
    std::vector<std::uint8_t> classes, subclasses, protocols;
    for (const auto& interface : device.interfaces) {
        classes.push_back(interface.cls);
        subclasses.push_back(interface.subclass);
        protocols.push_back(interface.protocol);
    }
    // The "version" field is bcdDevice, as usbredirhost passes it for real devices. No flags:
    // an unmatched pass is NoMatch (spice-gtk's default), and HID interfaces without boot
    // protocol beside other interfaces (volume buttons of a headset) are skipped as usual.
    const int rc =
        usbredirfilter_check(rules.data(), int(rules.size()), device.deviceClass, device.deviceSubclass,
                             device.deviceProtocol, classes.data(), subclasses.data(), protocols.data(),
                             int(classes.size()), device.vendorId, device.productId, device.bcdDevice, 0);
    if (rc == 0)
        return Result::Allowed;
    if (rc == -EPERM)
        return Result::Blocked;
    return Result::NoMatch;
}

QString UsbFilter::toString() const {
    if (rules_.empty())
        return {};
    std::vector<usbredirfilter_rule> rules;
    for (const Rule& r : rules_)
        rules.push_back(
            usbredirfilter_rule{r.deviceClass, r.vendorId, r.productId, r.versionBcd, r.allow ? 1 : 0});
    std::unique_ptr<char, FilterFree> text(
        usbredirfilter_rules_to_string(rules.data(), int(rules.size()), ",", "|"));
    return text ? QString::fromUtf8(text.get()) : QString();
}

} // namespace saffron
