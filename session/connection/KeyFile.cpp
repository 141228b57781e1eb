#include "connection/KeyFile.h"

#include <span>

namespace saffron {

qsizetype firstInvalidUtf8(const QByteArray& data) {
    const auto bytes =
        std::span(reinterpret_cast<const unsigned char*>(data.constData()), static_cast<size_t>(data.size()));
    size_t i = 0;
    while (i < bytes.size()) {
        const unsigned char lead = bytes[i];
        if (lead < 0x80) {
            ++i;
            continue;
        }
        // Sequence length and the allowed range of the second byte (RFC 3629 section 4):
        // the narrower ranges after E0, ED, F0 and F4 exclude overlong forms, UTF-16
        // surrogates and code points above U+10FFFF.
        size_t length = 0;
        unsigned char low = 0x80;
        unsigned char high = 0xbf;
        if (lead >= 0xc2 && lead <= 0xdf) {
            length = 2;
        } else if (lead >= 0xe0 && lead <= 0xef) {
            length = 3;
            if (lead == 0xe0)
                low = 0xa0;
            else if (lead == 0xed)
                high = 0x9f;
        } else if (lead >= 0xf0 && lead <= 0xf4) {
            length = 4;
            if (lead == 0xf0)
                low = 0x90;
            else if (lead == 0xf4)
                high = 0x8f;
        } else {
            return static_cast<qsizetype>(i);
        }
        if (bytes.size() - i < length)
            return static_cast<qsizetype>(i);
        if (bytes[i + 1] < low || bytes[i + 1] > high)
            return static_cast<qsizetype>(i);
        for (size_t k = 2; k < length; ++k) {
            if (bytes[i + k] < 0x80 || bytes[i + k] > 0xbf)
                return static_cast<qsizetype>(i);
        }
        i += length;
    }
    return -1;
}

namespace {

bool isBlank(QChar c) {
    return c == u' ' || c == u'\t';
}

// Key names as GLib accepts them for our purposes: letters, digits, '-', '_', '.'. GLib
// also allows "key[locale]" translations; no .vv writer uses them, so they are refused
// rather than silently ignored.
bool isValidKeyName(QStringView key) {
    if (key.isEmpty())
        return false;
    for (QChar c : key) {
        const bool ok = (c >= u'a' && c <= u'z') || (c >= u'A' && c <= u'Z') || (c >= u'0' && c <= u'9') ||
                        c == u'-' || c == u'_' || c == u'.';
        if (!ok)
            return false;
    }
    return true;
}

bool isValidGroupName(QStringView group) {
    if (group.isEmpty())
        return false;
    for (QChar c : group) {
        if (c.unicode() < 0x20 || c.unicode() == 0x7f || c == u'[' || c == u']')
            return false;
    }
    return true;
}

// GLib key-file value escapes (g_key_file_parse_value_as_string): \s \n \t \r \\.
std::optional<QChar> unescapeChar(QChar e) {
    switch (e.unicode()) {
    case u's':
        return QChar(u' ');
    case u'n':
        return QChar(u'\n');
    case u't':
        return QChar(u'\t');
    case u'r':
        return QChar(u'\r');
    case u'\\':
        return QChar(u'\\');
    default:
        return std::nullopt;
    }
}

QString clip(QStringView text) {
    constexpr qsizetype kShown = 40;
    return text.size() <= kShown ? text.toString() : text.left(kShown).toString() + QStringLiteral("...");
}

} // namespace

std::optional<KeyFile> KeyFile::parse(const QByteArray& data, QString* error) {
    if (data.size() > kMaxBytes) {
        *error = QStringLiteral("file is %1 bytes, more than the %2 bytes allowed")
                     .arg(data.size())
                     .arg(kMaxBytes);
        return std::nullopt;
    }
    const qsizetype nul = data.indexOf('\0');
    if (nul >= 0) {
        *error =
            QStringLiteral("line %1: NUL byte (this is not a text file)").arg(data.left(nul).count('\n') + 1);
        return std::nullopt;
    }
    const qsizetype bad = firstInvalidUtf8(data);
    if (bad >= 0) {
        *error = QStringLiteral("line %1: invalid UTF-8 (byte offset %2)")
                     .arg(data.left(bad).count('\n') + 1)
                     .arg(bad);
        return std::nullopt;
    }

    QString text = QString::fromUtf8(data);
    // Windows editors prepend a byte order mark; GLib would take it as part of the first line.
    if (text.startsWith(QChar(0xfeff)))
        text.remove(0, 1);

    KeyFile file;
    QString group;
    int lineNumber = 0;
    for (QStringView line : QStringView(text).split(u'\n')) {
        ++lineNumber;
        if (line.endsWith(u'\r'))
            line.chop(1);
        while (!line.isEmpty() && isBlank(line.front()))
            line = line.mid(1);
        if (line.isEmpty() || line.front() == u'#')
            continue;

        if (line.front() == u'[') {
            QStringView header = line;
            while (!header.isEmpty() && isBlank(header.back()))
                header.chop(1);
            if (!header.endsWith(u']') || !isValidGroupName(header.mid(1, header.size() - 2))) {
                *error =
                    QStringLiteral("line %1: malformed group header '%2'").arg(lineNumber).arg(clip(line));
                return std::nullopt;
            }
            group = header.mid(1, header.size() - 2).toString();
            if (!file.groups_.contains(group))
                file.groups_.append(group);
            continue;
        }

        const qsizetype equals = line.indexOf(u'=');
        if (equals < 0) {
            *error = QStringLiteral("line %1: '%2' is not 'key=value', a [group] or a # comment")
                         .arg(lineNumber)
                         .arg(clip(line));
            return std::nullopt;
        }
        QStringView key = line.left(equals);
        while (!key.isEmpty() && isBlank(key.back()))
            key.chop(1);
        if (!isValidKeyName(key)) {
            *error = key.isEmpty()
                         ? QStringLiteral("line %1: '=' without a key").arg(lineNumber)
                         : QStringLiteral("line %1: invalid key name '%2'").arg(lineNumber).arg(clip(key));
            return std::nullopt;
        }
        if (group.isEmpty()) {
            *error =
                QStringLiteral("line %1: key '%2' comes before any [group]").arg(lineNumber).arg(clip(key));
            return std::nullopt;
        }
        QStringView value = line.mid(equals + 1);
        while (!value.isEmpty() && isBlank(value.front()))
            value = value.mid(1);
        file.entries_.append(KeyFileEntry{group, key.toString(), value.toString(), lineNumber});
    }
    return file;
}

QString KeyFile::escape(QStringView value) {
    QString out;
    out.reserve(value.size());
    for (qsizetype i = 0; i < value.size(); ++i) {
        const QChar c = value[i];
        if (c == u'\\')
            out += QStringLiteral("\\\\");
        else if (c == u'\n')
            out += QStringLiteral("\\n");
        else if (c == u'\r')
            out += QStringLiteral("\\r");
        else if (c == u'\t')
            out += QStringLiteral("\\t");
        else if (c == u' ' && (i == 0 || i == value.size() - 1))
            out += QStringLiteral("\\s");
        else
            out += c;
    }
    return out;
}

std::optional<QString> KeyFile::unescape(QStringView raw, QString* error) {
    QString out;
    out.reserve(raw.size());
    for (qsizetype i = 0; i < raw.size(); ++i) {
        if (raw[i] != u'\\') {
            out.append(raw[i]);
            continue;
        }
        if (i + 1 >= raw.size()) {
            *error = QStringLiteral("value ends with a lone '\\'");
            return std::nullopt;
        }
        const auto decoded = unescapeChar(raw[++i]);
        if (!decoded) {
            *error = QStringLiteral("invalid escape '\\%1'").arg(raw[i]);
            return std::nullopt;
        }
        out.append(*decoded);
    }
    return out;
}

std::optional<QStringList> KeyFile::unescapeList(QStringView raw, QString* error) {
    QStringList items;
    QString current;
    bool pending = false; // an item (possibly empty) started since the last ';'
    for (qsizetype i = 0; i < raw.size(); ++i) {
        const QChar c = raw[i];
        if (c == u';') {
            items.append(current);
            current.clear();
            pending = false;
            continue;
        }
        pending = true;
        if (c != u'\\') {
            current.append(c);
            continue;
        }
        if (i + 1 >= raw.size()) {
            *error = QStringLiteral("value ends with a lone '\\'");
            return std::nullopt;
        }
        const QChar e = raw[++i];
        // In lists "\;" is a literal ';' (g_key_file_get_string_list).
        const auto decoded = e == u';' ? std::optional<QChar>(u';') : unescapeChar(e);
        if (!decoded) {
            *error = QStringLiteral("invalid escape '\\%1'").arg(e);
            return std::nullopt;
        }
        current.append(*decoded);
    }
    if (pending)
        items.append(current);
    return items;
}

} // namespace saffron
