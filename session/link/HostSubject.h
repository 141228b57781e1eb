#pragma once

#include <QByteArray>
#include <QString>
#include <optional>

namespace saffron {

// The `host-subject` check of SPICE clients: instead of matching the host name, the server
// certificate's subject must equal a given distinguished name, written as comma-separated
// KEY=VALUE pairs ("C=IL,L=Raanana,O=Red Hat,CN=my server"), with '\' escaping ',' and '\'.
// Proxmox and oVirt use it because their console host name is a ticket, not a DNS name.
class HostSubject {
public:
    // Returns an error text when the string is not a valid subject.
    static std::optional<QString> validate(const QString& subject);
    // True when the DER certificate's subject equals the subject string (same attributes, same
    // order, compared by OpenSSL's canonical X509_NAME comparison).
    static bool matches(const QString& subject, const QByteArray& certificateDer);
};

} // namespace saffron
