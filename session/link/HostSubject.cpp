#include "link/HostSubject.h"

#include <memory>
#include <openssl/x509.h>
#include <utility>
#include <vector>

namespace saffron {
namespace {
struct NameFree {
    void operator()(X509_NAME* n) const { X509_NAME_free(n); }
};
struct X509Free {
    void operator()(X509* x) const { X509_free(x); }
};

std::optional<std::vector<std::pair<QString, QString>>> split(const QString& subject) {
    std::vector<std::pair<QString, QString>> out;
    QString current;
    bool escaped = false;
    auto flush = [&]() -> bool {
        const qsizetype eq = current.indexOf('=');
        if (eq <= 0)
            return false;
        out.emplace_back(current.left(eq).trimmed(), current.mid(eq + 1));
        current.clear();
        return true;
    };
    for (QChar c : subject) {
        if (escaped) {
            current += c;
            escaped = false;
        } else if (c == '\\') {
            escaped = true;
        } else if (c == ',') {
            if (!flush())
                return std::nullopt;
        } else {
            current += c;
        }
    }
    if (escaped || !flush())
        return std::nullopt;
    return out;
}

std::unique_ptr<X509_NAME, NameFree> toName(const QString& subject) {
    auto parts = split(subject);
    if (!parts)
        return nullptr;
    std::unique_ptr<X509_NAME, NameFree> name(X509_NAME_new());
    for (const auto& [key, value] : *parts) {
        const QByteArray k = key.toUtf8();
        const QByteArray v = value.toUtf8();
        if (!X509_NAME_add_entry_by_txt(name.get(), k.constData(), MBSTRING_UTF8,
                                        reinterpret_cast<const unsigned char*>(v.constData()),
                                        static_cast<int>(v.size()), -1, 0))
            return nullptr;
    }
    return name;
}
} // namespace

std::optional<QString> HostSubject::validate(const QString& subject) {
    if (!split(subject))
        return QStringLiteral("host-subject \"%1\" is not a list of KEY=VALUE pairs").arg(subject);
    if (!toName(subject))
        return QStringLiteral("host-subject \"%1\" names an unknown attribute").arg(subject);
    return std::nullopt;
}

bool HostSubject::matches(const QString& subject, const QByteArray& der) {
    auto expected = toName(subject);
    if (!expected)
        return false;
    const auto* p = reinterpret_cast<const unsigned char*>(der.constData());
    std::unique_ptr<X509, X509Free> cert(d2i_X509(nullptr, &p, der.size()));
    if (!cert)
        return false;
    return X509_NAME_cmp(expected.get(), X509_get_subject_name(cert.get())) == 0;
}

} // namespace saffron
