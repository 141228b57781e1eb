#pragma once

#include <QByteArray>
#include <QList>
#include <QString>
#include <QStringList>
#include <QStringView>
#include <optional>

namespace saffron {

// One "key=value" line of a key file, value still escaped.
struct KeyFileEntry {
    QString group;
    QString key;
    QString rawValue;
    int line = 0; // 1-based
};

// A bounded reader for the GLib key-file (INI) dialect virt-viewer writes and reads
// (g_key_file_load_from_data): "[group]" headers, "key=value" lines, '#' comments, blank
// lines, "\r\n" or "\n" line ends. Whitespace before a key, after a key and after '=' is
// dropped; whitespace at the end of a value is kept, as GLib does.
//
// QSettings is not used on purpose: it treats ';' and '"' specially, folds key case on some
// platforms and would silently accept what virt-viewer rejects.
//
// The file is untrusted (a browser download): it must be at most kMaxBytes, valid UTF-8
// without NUL, and every non-comment line must be a header or contain '='. Errors carry the
// 1-based line number.
class KeyFile {
public:
    static constexpr qsizetype kMaxBytes = 1 << 20;

    static std::optional<KeyFile> parse(const QByteArray& data, QString* error);

    const QList<KeyFileEntry>& entries() const { return entries_; }
    bool hasGroup(const QString& group) const { return groups_.contains(group); }

    // GLib value escapes: \s (space), \n, \t, \r, \\. Anything else after '\' is an error.
    static std::optional<QString> unescape(QStringView raw, QString* error);
    // The inverse of unescape(), for writers: backslash, newline, carriage return and tab escaped,
    // and a space at either end written as \s so that no reader trims it.
    static QString escape(QStringView value);
    // A GLib string list: items separated by ';' (a trailing ';' ends the list, "\;" is a
    // literal ';'), each item unescaped as above.
    static std::optional<QStringList> unescapeList(QStringView raw, QString* error);

private:
    QList<KeyFileEntry> entries_;
    QStringList groups_;
};

// Offset of the first byte that is not part of well-formed UTF-8 (RFC 3629: no overlong
// forms, no surrogates, nothing above U+10FFFF), or -1 when `data` is valid.
qsizetype firstInvalidUtf8(const QByteArray& data);

} // namespace saffron
