#pragma once

#include "connection/ConnectionSpec.h"

#include <QString>
#include <QStringList>
#include <optional>
#include <utility>

namespace saffron {

// Outcome of parsing a connection description: a ConnectionSpec, or one error message meant
// for the user ("unknown key 'prot' on line 4"). Warnings are non-fatal remarks a UI may show
// (e.g. "password in a URI is visible in process listings").
class ConnectionResult {
public:
    static ConnectionResult success(ConnectionSpec spec) {
        ConnectionResult r;
        r.spec_ = std::move(spec);
        return r;
    }
    static ConnectionResult failure(QString error) {
        ConnectionResult r;
        r.error_ = std::move(error);
        return r;
    }

    bool ok() const { return spec_.has_value(); }
    explicit operator bool() const { return ok(); }

    // Only valid when ok(); throws std::bad_optional_access otherwise.
    const ConnectionSpec& spec() const { return spec_.value(); }
    ConnectionSpec& spec() { return spec_.value(); }
    // Empty when ok().
    const QString& error() const { return error_; }

    const QStringList& warnings() const { return warnings_; }
    void addWarning(QString warning) { warnings_.append(std::move(warning)); }

private:
    ConnectionResult() = default;

    std::optional<ConnectionSpec> spec_;
    QString error_;
    QStringList warnings_;
};

} // namespace saffron
