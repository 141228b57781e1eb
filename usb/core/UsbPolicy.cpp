#include "UsbPolicy.h"

#include <QFile>
#include <QRegularExpression>
#include <QStringList>
#include <algorithm>

namespace saffron {

namespace {

// Largest policy file we read: a policy is a few dozen lines.
constexpr qint64 kMaxPolicyFileSize = 1024 * 1024;

struct ClassName {
    const char* name;
    quint8 code;
};
// USB-IF base class codes, by the names people use for them.
constexpr ClassName kClassNames[] = {
    {"audio", 0x01},       {"comm", 0x02},         {"cdc", 0x02},       {"hid", 0x03},
    {"physical", 0x05},    {"image", 0x06},        {"ptp", 0x06},       {"printer", 0x07},
    {"storage", 0x08},     {"mass-storage", 0x08}, {"hub", 0x09},       {"cdc-data", 0x0a},
    {"smartcard", 0x0b},   {"smart-card", 0x0b},   {"security", 0x0d},  {"video", 0x0e},
    {"healthcare", 0x0f},  {"audio-video", 0x10},  {"billboard", 0x11}, {"type-c-bridge", 0x12},
    {"diagnostic", 0xdc},  {"wireless", 0xe0},     {"bluetooth", 0xe0}, {"misc", 0xef},
    {"application", 0xfe}, {"vendor", 0xff},
};

// A hex number of at most `maxDigits` digits, optional 0x prefix ("0781", "0x0781", "8").
std::optional<quint32> parseHex(QString value, int maxDigits) {
    if (value.startsWith(QLatin1String("0x"), Qt::CaseInsensitive))
        value = value.mid(2);
    if (value.isEmpty() || value.size() > maxDigits)
        return std::nullopt;
    bool ok = false;
    const uint parsed = value.toUInt(&ok, 16);
    if (!ok)
        return std::nullopt;
    return parsed;
}

QString verbName(UsbPolicy::Verb verb) {
    switch (verb) {
    case UsbPolicy::Verb::Deny:
        return QStringLiteral("deny");
    case UsbPolicy::Verb::Allow:
        return QStringLiteral("allow");
    case UsbPolicy::Verb::Auto:
        return QStringLiteral("auto");
    case UsbPolicy::Verb::AutoPlug:
        return QStringLiteral("auto-plug");
    case UsbPolicy::Verb::AutoConnect:
        return QStringLiteral("auto-connect");
    case UsbPolicy::Verb::NoAuto:
        return QStringLiteral("noauto");
    }
    return {};
}

std::optional<UsbPolicy::Verb> verbFromName(const QString& name) {
    for (auto verb : {UsbPolicy::Verb::Deny, UsbPolicy::Verb::Allow, UsbPolicy::Verb::Auto,
                      UsbPolicy::Verb::AutoPlug, UsbPolicy::Verb::AutoConnect, UsbPolicy::Verb::NoAuto}) {
        if (verbName(verb) == name)
            return verb;
    }
    return std::nullopt;
}

QString ruleReason(const UsbPolicy::Rule& rule) {
    return QStringLiteral("policy line %1 (%2)").arg(rule.line).arg(rule.text);
}

// Parses "key=value" conditions into `rule`; returns an error message or an empty string.
QString parseConditions(const QStringList& terms, UsbPolicy::Rule& rule) {
    if (terms.isEmpty())
        return QStringLiteral("'%1' needs at least one condition (or 'all')").arg(verbName(rule.verb));
    bool any = false;
    for (const QString& term : terms) {
        if (term == QLatin1String("all")) {
            any = true;
            continue;
        }
        const qsizetype eq = term.indexOf(u'=');
        if (eq <= 0)
            return QStringLiteral("'%1' is not a key=value condition").arg(term);
        const QString key = term.left(eq).toLower();
        const QString value = term.mid(eq + 1);
        if (value.isEmpty())
            return QStringLiteral("'%1' has no value").arg(term);
        const bool wildcard = value == QLatin1String("*");
        any = true;
        if (key == QLatin1String("class")) {
            if (wildcard)
                continue;
            if (auto named = UsbPolicy::classFromName(value.toLower()))
                rule.deviceClass = *named;
            else if (auto code = parseHex(value, 2))
                rule.deviceClass = quint8(*code);
            else
                return QStringLiteral("unknown class '%1' (a name such as hid or storage, or a "
                                      "hex code such as 08)")
                    .arg(value);
        } else if (key == QLatin1String("vendor") || key == QLatin1String("product") ||
                   key == QLatin1String("version")) {
            if (wildcard)
                continue;
            const auto number = parseHex(value, 4);
            if (!number)
                return QStringLiteral("%1 '%2' is not a hex number of up to 4 digits").arg(key, value);
            auto& field = key == QLatin1String("vendor")    ? rule.vendorId
                          : key == QLatin1String("product") ? rule.productId
                                                            : rule.versionBcd;
            field = quint16(*number);
        } else if (key == QLatin1String("bus")) {
            if (wildcard)
                continue;
            bool ok = false;
            const uint bus = value.toUInt(&ok, 10);
            if (!ok || bus > 255)
                return QStringLiteral("bus '%1' is not a bus number (0-255)").arg(value);
            rule.bus = int(bus);
        } else if (key == QLatin1String("port")) {
            for (QChar c : value) {
                if (!(c.isDigit() || c == u'-' || c == u'.' || c == u'*' || c == u'?'))
                    return QStringLiteral("port '%1' is not a port path such as 1-2.3 or 1-2.*").arg(value);
            }
            rule.portGlob = value;
        } else {
            return QStringLiteral("unknown condition '%1' (class, vendor, product, version, "
                                  "bus, port)")
                .arg(key);
        }
    }
    return any ? QString() : QStringLiteral("no condition");
}

} // namespace

std::optional<quint8> UsbPolicy::classFromName(const QString& name) {
    for (const auto& entry : kClassNames) {
        if (name == QLatin1String(entry.name))
            return entry.code;
    }
    return std::nullopt;
}

bool UsbPolicy::globMatch(QStringView pattern, QStringView text) {
    // Iterative wildcard match with one backtrack point: linear in practice, never recursive.
    qsizetype p = 0, t = 0, starP = -1, starT = 0;
    while (t < text.size()) {
        if (p < pattern.size() && (pattern[p] == u'?' || pattern[p] == text[t])) {
            ++p;
            ++t;
        } else if (p < pattern.size() && pattern[p] == u'*') {
            starP = p++;
            starT = t;
        } else if (starP >= 0) {
            p = starP + 1;
            t = ++starT;
        } else {
            return false;
        }
    }
    while (p < pattern.size() && pattern[p] == u'*')
        ++p;
    return p == pattern.size();
}

bool UsbPolicy::Rule::matches(const UsbDeviceInfo& device) const {
    if (deviceClass && !device.hasClass(*deviceClass))
        return false;
    if (vendorId && device.vendorId != *vendorId)
        return false;
    if (productId && device.productId != *productId)
        return false;
    if (versionBcd && device.bcdDevice != *versionBcd)
        return false;
    if (bus && device.bus != *bus)
        return false;
    if (!portGlob.isEmpty() && (device.portPath.isEmpty() || !globMatch(portGlob, device.portPath)))
        return false;
    return true;
}

std::optional<UsbPolicy> UsbPolicy::parse(const QString& text, QString* error) {
    UsbPolicy policy;
    const QStringList lines = text.split(u'\n');
    for (qsizetype i = 0; i < lines.size(); ++i) {
        const int lineNumber = int(i + 1);
        auto fail = [&](const QString& message) -> std::optional<UsbPolicy> {
            if (error)
                *error = QStringLiteral("line %1: %2").arg(lineNumber).arg(message);
            return std::nullopt;
        };
        QString line = lines[i];
        const qsizetype hash = line.indexOf(u'#');
        if (hash >= 0)
            line.truncate(hash);
        line = line.trimmed();
        if (line.isEmpty() || line.startsWith(u';'))
            continue;
        // The rules may live in a section of a larger INI file.
        if (line.startsWith(u'[') && line.endsWith(u']'))
            continue;

        static const QRegularExpression space(QStringLiteral("\\s+"));
        const qsizetype eq = line.indexOf(u'=');
        const QString settingName = eq > 0 ? line.left(eq).trimmed() : QString();
        if (!settingName.isEmpty() && !settingName.contains(space)) {
            // "key = value" settings: the filter strings.
            const QString key = settingName.toLower();
            const QString value = line.mid(eq + 1).trimmed();
            UsbFilter* target = key == QLatin1String("redirect-filter")  ? &policy.redirectFilter_
                                : key == QLatin1String("auto-filter")    ? &policy.autoFilter_
                                : key == QLatin1String("connect-filter") ? &policy.connectFilter_
                                                                         : nullptr;
            if (!target)
                return fail(QStringLiteral("unknown setting '%1' (redirect-filter, auto-filter, "
                                           "connect-filter)")
                                .arg(settingName));
            QString filterError;
            auto filter = UsbFilter::parse(value, &filterError);
            if (!filter)
                return fail(QStringLiteral("%1: %2").arg(key, filterError));
            *target = std::move(*filter);
            continue;
        }

        QStringList words = line.split(space, Qt::SkipEmptyParts);
        const QString firstWord = words.takeFirst();
        const auto verb = verbFromName(firstWord.toLower());
        if (!verb)
            return fail(QStringLiteral("unknown rule '%1' (deny, allow, auto, auto-plug, "
                                       "auto-connect, noauto, or a '... = filter' setting)")
                            .arg(firstWord));
        Rule rule;
        rule.verb = *verb;
        rule.line = lineNumber;
        rule.text = line;
        const QString problem = parseConditions(words, rule);
        if (!problem.isEmpty())
            return fail(problem);
        policy.rules_.push_back(std::move(rule));
    }
    return policy;
}

std::optional<UsbPolicy> UsbPolicy::load(const QString& path, QString* error) {
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly) || file.size() > kMaxPolicyFileSize) {
        if (error)
            *error = QStringLiteral("%1: cannot read USB policy (%2)")
                         .arg(path, file.isOpen() ? QStringLiteral("file too large") : file.errorString());
        return std::nullopt;
    }
    QString parseError;
    auto policy = parse(QString::fromUtf8(file.read(kMaxPolicyFileSize)), &parseError);
    if (!policy && error)
        *error = QStringLiteral("%1: %2").arg(path, parseError);
    return policy;
}

const UsbPolicy::Rule* UsbPolicy::firstMatch(const UsbDeviceInfo& device,
                                             std::initializer_list<Verb> verbs) const {
    for (const Rule& rule : rules_) {
        if (std::find(verbs.begin(), verbs.end(), rule.verb) != verbs.end() && rule.matches(device))
            return &rule;
    }
    return nullptr;
}

UsbPolicy::Decision UsbPolicy::decide(const UsbDeviceInfo& device) const {
    Decision d;
    if (const Rule* deny = firstMatch(device, {Verb::Deny})) {
        d.reason = QStringLiteral("denied by %1").arg(ruleReason(*deny));
        return d;
    }
    if (!redirectFilter_.isEmpty()) {
        switch (redirectFilter_.check(device)) {
        case UsbFilter::Result::Allowed:
            break;
        case UsbFilter::Result::Blocked:
            d.reason = QStringLiteral("blocked by the redirect filter (%1)").arg(redirectFilter_.toString());
            return d;
        case UsbFilter::Result::NoMatch:
            d.reason = QStringLiteral("no rule of the redirect filter allows it (%1)")
                           .arg(redirectFilter_.toString());
            return d;
        }
    }
    const bool hasAllowRules =
        std::any_of(rules_.begin(), rules_.end(), [](const Rule& r) { return r.verb == Verb::Allow; });
    const Rule* allow = firstMatch(device, {Verb::Allow});
    if (hasAllowRules && !allow) {
        d.reason = QStringLiteral("not matched by any allow rule of the policy");
        return d;
    }
    d.mayRedirect = true;
    const QString may = allow ? QStringLiteral("may be redirected (%1)").arg(ruleReason(*allow))
                              : QStringLiteral("may be redirected");

    if (device.isHidInputDevice()) {
        d.reason = may + QStringLiteral("; never automatically: it is an HID keyboard or mouse "
                                        "and local input must keep working");
        return d;
    }
    if (const Rule* noAuto = firstMatch(device, {Verb::NoAuto})) {
        d.reason = may + QStringLiteral("; never automatically (%1)").arg(ruleReason(*noAuto));
        return d;
    }
    QStringList why;
    if (const Rule* rule = firstMatch(device, {Verb::Auto, Verb::AutoPlug})) {
        d.autoRedirect = true;
        why << QStringLiteral("on plug by %1").arg(ruleReason(*rule));
    } else if (!autoFilter_.isEmpty() && autoFilter_.check(device) == UsbFilter::Result::Allowed) {
        d.autoRedirect = true;
        why << QStringLiteral("on plug by the auto filter");
    }
    if (const Rule* rule = firstMatch(device, {Verb::Auto, Verb::AutoConnect})) {
        d.redirectOnConnect = true;
        why << QStringLiteral("on connect by %1").arg(ruleReason(*rule));
    } else if (!connectFilter_.isEmpty() && connectFilter_.check(device) == UsbFilter::Result::Allowed) {
        d.redirectOnConnect = true;
        why << QStringLiteral("on connect by the connect filter");
    }
    d.reason = why.isEmpty() ? may + QStringLiteral("; no rule redirects it automatically")
                             : may + QStringLiteral("; automatically ") + why.join(u", ");
    return d;
}

} // namespace saffron
