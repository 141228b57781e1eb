// libFuzzer target for the shell's configuration parsers: ShellSettings layers, connection
// catalog files and hotkey strings. The first byte selects the parser, the rest is the file.
#include "common/appliance/CommandLine.h"
#include "common/appliance/ConnectionCatalog.h"
#include "common/appliance/KeySequenceSpec.h"
#include "common/appliance/ShellSettings.h"

#include <QByteArray>
#include <QRegularExpression>
#include <cstddef>
#include <cstdint>

using namespace saffron;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size < 1)
        return 0;
    const QByteArray input(reinterpret_cast<const char*>(data + 1), static_cast<qsizetype>(size - 1));
    switch (data[0] % 3) {
    case 0: {
        QList<SettingsProblem> problems;
        const auto layer = ShellSettings::parseLayer(input, QStringLiteral("fuzz.conf"), &problems);
        QMap<QString, QString> values;
        QString error;
        for (auto it = layer.constBegin(); it != layer.constEnd(); ++it) {
            if (ShellSettings::validate(it.key(), it->value, &error))
                values.insert(it.key(), it->value);
        }
        // What the admin screen writes must read back the same.
        QList<SettingsProblem> again;
        const auto reread =
            ShellSettings::parseLayer(ShellSettings::serialize(values), QStringLiteral("x"), &again);
        for (auto it = values.constBegin(); it != values.constEnd(); ++it) {
            if (reread.value(it.key()).value != it.value())
                __builtin_trap();
        }
        break;
    }
    case 1: {
        // An absolute vv= path would make the fuzzer read arbitrary files (even block on
        // /dev/stdin); relative ones resolve under a directory that does not exist.
        static const QRegularExpression absoluteVv(QStringLiteral("(^|\\n)[ \\t]*vv[ \\t]*=[ \\t]*/"));
        if (QString::fromUtf8(input).contains(absoluteVv))
            return 0;
        QList<CatalogProblem> problems;
        const auto entry = ConnectionCatalog::parseEntry(
            input, QStringLiteral("fuzz.conf"), QStringLiteral("/nonexistent-saffron-fuzz"), &problems);
        if (entry)
            (void)entry->needsPassword();
        break;
    }
    default: {
        QString error;
        const QString text = QString::fromUtf8(input);
        const auto key = KeySequenceSpec::parse(text, &error);
        if (key) {
            // The canonical spelling parses back to the same combination.
            const auto again = KeySequenceSpec::parse(KeySequenceSpec::toString(*key), &error);
            if (!again || *again != *key)
                __builtin_trap();
        }
        (void)parseHotkeys(text, &error);
        break;
    }
    }
    return 0;
}
