#pragma once

#include <QByteArray>
#include <QString>
#include <functional>
#include <sys/types.h>

namespace saffron {

// Replaces a file so that a power cut at any moment leaves either the complete old contents or
// the complete new contents, never a mix or an empty file:
//
//   1. create a temporary file in the same directory (same file system, so rename is atomic),
//      with the final permissions from the start (mkstemp creates it 0600, then fchmod);
//   2. write everything, fsync the file (data and size reach the disk before the name);
//   3. rename over the target (atomic replace, POSIX rename(2));
//   4. fsync the directory, so the rename itself is durable.
//
// QSaveFile does 1-3 but not 4: after a crash the directory entry may still point to the old
// inode, which loses an admin's edit even though commit() returned true. It also creates its
// temporary file with the default umask permissions before we could restrict them, so a file
// holding a secret would be briefly readable by others. Hence a small POSIX implementation.
class AtomicFile {
public:
    // The steps, for failure injection in tests (a root test process ignores read-only modes).
    enum class Step { CreateTemp, Write, SyncFile, Rename, SyncDirectory };

    // Writes `data` to `path` with permission bits `mode` (e.g. 0600 for files with secrets).
    // On failure returns false and sets *error ("cannot rename /x.tmp to /x: Permission
    // denied"); the old file is untouched and no temporary file is left behind.
    static bool write(const QString& path, const QByteArray& data, mode_t mode, QString* error);

    // Test hook: called before each step; returning true makes that step fail with EIO.
    // Pass {} to remove. Not thread-safe; tests only.
    static void setFailureInjection(std::function<bool(Step)> failAt);
};

} // namespace saffron
