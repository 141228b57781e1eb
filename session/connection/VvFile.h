#pragma once

#include "connection/ConnectionResult.h"

#include <QByteArray>
#include <QString>

namespace saffron {

// virt-viewer connection files (".vv", MIME application/x-virt-viewer), as documented in
// remote-viewer(1) "CONNECTION FILE" and written by Proxmox VE, oVirt and others: a key file
// (see KeyFile) with a mandatory [virt-viewer] group whose "type" must be "spice".
//
// Every key of [virt-viewer] is checked: an unknown key is an error naming the key and its
// line, except keys starting with "x-", which virt-viewer reserves for extensions. Other
// groups ([ovirt], ...) must be well-formed but are otherwise ignored. A key given twice in
// [virt-viewer] is an error (GLib would silently keep the last one).
ConnectionResult parseVvFile(const QByteArray& contents);

enum class DeleteMode {
    Keep,       // never delete the file; the caller sees spec.deleteThisFile
    HonourFile, // delete it after a successful parse when it says delete-this-file=1
};

// Reads at most KeyFile::kMaxBytes (+1 to detect larger files) from `path` and parses it.
// With DeleteMode::HonourFile and delete-this-file=1, the file is removed once parsed
// successfully (a failed parse keeps it, so the user can look at it); failing to remove it
// is a warning on the result, not an error, as in virt-viewer.
ConnectionResult loadVvFile(const QString& path, DeleteMode mode);
// Same as loadVvFile(path, DeleteMode::Keep).
ConnectionResult loadVvFile(const QString& path);

} // namespace saffron
