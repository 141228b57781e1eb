#include "common/appliance/AtomicFile.h"

#include <QFile>
#include <QFileInfo>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace saffron {

namespace {

std::function<bool(AtomicFile::Step)>& failureHook() {
    static std::function<bool(AtomicFile::Step)> hook;
    return hook;
}

// True (with errno = EIO) when a test asked this step to fail.
bool injected(AtomicFile::Step step) {
    if (failureHook() && failureHook()(step)) {
        errno = EIO;
        return true;
    }
    return false;
}

QString errnoText(int code) {
    return QString::fromLocal8Bit(std::strerror(code));
}

// Closes a descriptor on every path out of write().
class Fd {
public:
    explicit Fd(int fd) : fd_(fd) {}
    Fd(const Fd&) = delete;
    Fd& operator=(const Fd&) = delete;
    ~Fd() { close(); }
    int get() const { return fd_; }
    // Returns close(2)'s result: on NFS a failed close can be the first report of a write error.
    int close() {
        const int fd = fd_;
        fd_ = -1;
        return fd >= 0 ? ::close(fd) : 0;
    }

private:
    int fd_;
};

} // namespace

void AtomicFile::setFailureInjection(std::function<bool(Step)> failAt) {
    failureHook() = std::move(failAt);
}

bool AtomicFile::write(const QString& path, const QByteArray& data, mode_t mode, QString* error) {
    const QFileInfo info(path);
    const QString dir = info.absolutePath();
    const QByteArray target = QFile::encodeName(info.absoluteFilePath());
    // Hidden name in the same directory: a crash leaves at most a stray ".name.XXXXXX" that a
    // glob like conf.d/*.conf never picks up.
    QByteArray temp = QFile::encodeName(dir + QStringLiteral("/.") + info.fileName()) + ".XXXXXX";

    if (injected(Step::CreateTemp)) {
        *error = QStringLiteral("cannot create a temporary file in %1: %2").arg(dir, errnoText(errno));
        return false;
    }
    Fd fd(::mkostemp(temp.data(), O_CLOEXEC));
    if (fd.get() < 0) {
        *error = QStringLiteral("cannot create a temporary file in %1: %2").arg(dir, errnoText(errno));
        return false;
    }
    const QString tempName = QFile::decodeName(temp);
    auto fail = [&](const QString& what) {
        const int code = errno;
        fd.close();
        ::unlink(temp.constData());
        *error = QStringLiteral("%1: %2").arg(what, errnoText(code));
        return false;
    };

    // mkstemp made it 0600; fchmod sets the exact mode (umask does not apply to fchmod).
    if (::fchmod(fd.get(), mode) != 0)
        return fail(QStringLiteral("cannot set the mode of %1").arg(tempName));
    if (injected(Step::Write))
        return fail(QStringLiteral("cannot write %1").arg(tempName));
    qsizetype done = 0;
    while (done < data.size()) {
        const ssize_t n = ::write(fd.get(), data.constData() + done, static_cast<size_t>(data.size() - done));
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            if (n == 0)
                errno = ENOSPC;
            return fail(QStringLiteral("cannot write %1").arg(tempName));
        }
        done += n;
    }
    if (injected(Step::SyncFile) || ::fsync(fd.get()) != 0)
        return fail(QStringLiteral("cannot sync %1").arg(tempName));
    if (fd.close() != 0)
        return fail(QStringLiteral("cannot close %1").arg(tempName));
    if (injected(Step::Rename) || ::rename(temp.constData(), target.constData()) != 0)
        return fail(QStringLiteral("cannot rename %1 to %2").arg(tempName, path));

    // The new contents are in place; a failure from here on only means durability is not
    // guaranteed yet, but it is reported so the caller can tell the administrator.
    Fd dirFd(::open(QFile::encodeName(dir).constData(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (injected(Step::SyncDirectory) || dirFd.get() < 0 || ::fsync(dirFd.get()) != 0) {
        *error = QStringLiteral("wrote %1 but cannot sync directory %2: %3").arg(path, dir, errnoText(errno));
        return false;
    }
    return true;
}

} // namespace saffron
