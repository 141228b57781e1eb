#include "common/appliance/KeySequenceSpec.h"

#include <QHash>
#include <QStringList>
#include <algorithm>

namespace saffron {

namespace {

struct NamedKey {
    const char* name; // lower case
    Qt::Key key;
};

// GDK key names (gdkkeysyms.h without the GDK_KEY_ prefix, lower-cased) that make sense as a
// hotkey, plus short aliases people write by hand. The first name of a key is its canonical one.
constexpr NamedKey kNamedKeys[] = {
    {"escape", Qt::Key_Escape},
    {"esc", Qt::Key_Escape},
    {"tab", Qt::Key_Tab},
    {"backspace", Qt::Key_Backspace},
    {"return", Qt::Key_Return},
    {"enter", Qt::Key_Return},
    {"kp_enter", Qt::Key_Enter},
    {"insert", Qt::Key_Insert},
    {"ins", Qt::Key_Insert},
    {"delete", Qt::Key_Delete},
    {"del", Qt::Key_Delete},
    {"pause", Qt::Key_Pause},
    {"break", Qt::Key_Pause},
    {"print", Qt::Key_Print},
    {"sysreq", Qt::Key_SysReq},
    {"sys_req", Qt::Key_SysReq},
    {"home", Qt::Key_Home},
    {"end", Qt::Key_End},
    {"left", Qt::Key_Left},
    {"up", Qt::Key_Up},
    {"right", Qt::Key_Right},
    {"down", Qt::Key_Down},
    {"page_up", Qt::Key_PageUp},
    {"pageup", Qt::Key_PageUp},
    {"pgup", Qt::Key_PageUp},
    {"prior", Qt::Key_PageUp},
    {"page_down", Qt::Key_PageDown},
    {"pagedown", Qt::Key_PageDown},
    {"pgdn", Qt::Key_PageDown},
    {"next", Qt::Key_PageDown},
    {"caps_lock", Qt::Key_CapsLock},
    {"num_lock", Qt::Key_NumLock},
    {"scroll_lock", Qt::Key_ScrollLock},
    {"menu", Qt::Key_Menu},
    {"space", Qt::Key_Space},
    {"plus", Qt::Key_Plus},
    {"minus", Qt::Key_Minus},
    {"equal", Qt::Key_Equal},
    {"comma", Qt::Key_Comma},
    {"period", Qt::Key_Period},
    {"slash", Qt::Key_Slash},
    {"backslash", Qt::Key_Backslash},
    {"semicolon", Qt::Key_Semicolon},
    {"apostrophe", Qt::Key_Apostrophe},
    {"grave", Qt::Key_QuoteLeft},
    {"bracketleft", Qt::Key_BracketLeft},
    {"bracketright", Qt::Key_BracketRight},
};

const QHash<QString, Qt::Key>& keysByName() {
    static const QHash<QString, Qt::Key> table = [] {
        QHash<QString, Qt::Key> t;
        for (const NamedKey& k : kNamedKeys)
            t.insert(QLatin1String(k.name), k.key);
        return t;
    }();
    return table;
}

std::optional<Qt::KeyboardModifier> modifierNamed(const QString& lower) {
    if (lower == u"ctrl" || lower == u"control" || lower == u"primary")
        return Qt::ControlModifier;
    if (lower == u"alt" || lower == u"mod1")
        return Qt::AltModifier;
    if (lower == u"shift")
        return Qt::ShiftModifier;
    if (lower == u"super" || lower == u"meta" || lower == u"win" || lower == u"mod4")
        return Qt::MetaModifier;
    return std::nullopt;
}

std::optional<Qt::Key> keyNamed(const QString& lower) {
    if (lower.size() == 1) {
        const QChar c = lower[0];
        if (c >= u'a' && c <= u'z')
            return static_cast<Qt::Key>(Qt::Key_A + (c.unicode() - u'a'));
        if (c >= u'0' && c <= u'9')
            return static_cast<Qt::Key>(Qt::Key_0 + (c.unicode() - u'0'));
    }
    if (lower.size() >= 2 && lower.size() <= 3 && lower[0] == u'f') {
        const QString digits = lower.mid(1);
        const bool allDigits =
            std::all_of(digits.begin(), digits.end(), [](QChar c) { return c >= u'0' && c <= u'9'; });
        const int n = allDigits ? digits.toInt() : 0;
        if (allDigits && digits[0] != u'0' && n >= 1 && n <= 35)
            return static_cast<Qt::Key>(Qt::Key_F1 + (n - 1));
    }
    const auto it = keysByName().constFind(lower);
    if (it != keysByName().constEnd())
        return *it;
    return std::nullopt;
}

QString clip(QStringView text) {
    return text.size() <= 40 ? text.toString() : text.left(40).toString() + QStringLiteral("...");
}

} // namespace

std::optional<QKeyCombination> KeySequenceSpec::parse(QStringView text, QString* error) {
    const QString trimmed = text.trimmed().toString();
    if (trimmed.isEmpty()) {
        *error = QStringLiteral("empty key sequence");
        return std::nullopt;
    }
    if (trimmed.size() > 100) {
        *error = QStringLiteral("key sequence '%1' is too long").arg(clip(trimmed));
        return std::nullopt;
    }
    const QStringList parts = trimmed.split(u'+');
    Qt::KeyboardModifiers modifiers;
    for (qsizetype i = 0; i < parts.size(); ++i) {
        const QString part = parts[i].trimmed().toLower();
        if (part.isEmpty()) {
            *error = QStringLiteral("empty name in '%1' (write a '+' key as 'plus')").arg(clip(trimmed));
            return std::nullopt;
        }
        const bool last = i + 1 == parts.size();
        if (const auto modifier = modifierNamed(part)) {
            if (last) {
                *error = QStringLiteral("'%1' has no key, only modifiers").arg(clip(trimmed));
                return std::nullopt;
            }
            if (modifiers.testFlag(*modifier)) {
                *error = QStringLiteral("modifier '%1' is repeated in '%2'")
                             .arg(parts[i].trimmed(), clip(trimmed));
                return std::nullopt;
            }
            modifiers |= *modifier;
            continue;
        }
        if (!last) {
            *error = keyNamed(part)
                         ? QStringLiteral("'%1' in '%2' is a key, but only the last name may be a key")
                               .arg(clip(parts[i].trimmed()), clip(trimmed))
                         : QStringLiteral("unknown modifier '%1' in '%2' (valid: Ctrl, Alt, Shift, Super)")
                               .arg(clip(parts[i].trimmed()), clip(trimmed));
            return std::nullopt;
        }
        const auto key = keyNamed(part);
        if (!key) {
            *error = QStringLiteral("unknown key '%1' in '%2'").arg(clip(parts[i].trimmed()), clip(trimmed));
            return std::nullopt;
        }
        return QKeyCombination(modifiers, *key);
    }
    return std::nullopt; // not reached: the last part returns above
}

QString KeySequenceSpec::toString(QKeyCombination combination) {
    QStringList parts;
    const Qt::KeyboardModifiers m = combination.keyboardModifiers();
    if (m.testFlag(Qt::ControlModifier))
        parts << QStringLiteral("Ctrl");
    if (m.testFlag(Qt::AltModifier))
        parts << QStringLiteral("Alt");
    if (m.testFlag(Qt::ShiftModifier))
        parts << QStringLiteral("Shift");
    if (m.testFlag(Qt::MetaModifier))
        parts << QStringLiteral("Super");
    const Qt::Key key = combination.key();
    QString name;
    if (key >= Qt::Key_A && key <= Qt::Key_Z)
        name = QChar(u'A' + (key - Qt::Key_A));
    else if (key >= Qt::Key_0 && key <= Qt::Key_9)
        name = QChar(u'0' + (key - Qt::Key_0));
    else if (key >= Qt::Key_F1 && key <= Qt::Key_F35)
        name = QStringLiteral("F%1").arg(key - Qt::Key_F1 + 1);
    else {
        for (const NamedKey& k : kNamedKeys) {
            if (k.key == key) {
                // GDK spelling: first letter upper case ("Page_Up", "Delete").
                name = QLatin1String(k.name);
                name[0] = name[0].toUpper();
                break;
            }
        }
    }
    if (name.isEmpty())
        name = QStringLiteral("0x%1").arg(int(key), 0, 16);
    parts << name;
    return parts.join(u'+');
}

} // namespace saffron
