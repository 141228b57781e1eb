#include "common/appliance/AdminPin.h"

#include <QByteArray>
#include <QStringList>
#include <algorithm>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <optional>

namespace saffron {

namespace {

constexpr int kSaltBytes = 16;
constexpr int kKeyBytes = 32; // SHA-256 output: a longer key would only cost more blocks
const QString kScheme = QStringLiteral("pbkdf2-sha256");

struct Parsed {
    int iterations = 0;
    QByteArray salt;
    QByteArray key;
};

std::optional<Parsed> parse(const QString& stored) {
    const QStringList parts = stored.split(u'$');
    if (parts.size() != 4 || parts[0] != kScheme)
        return std::nullopt;
    bool ok = false;
    const int iterations = parts[1].toInt(&ok);
    if (!ok || iterations < AdminPin::kMinIterations || iterations > AdminPin::kMaxIterations)
        return std::nullopt;
    const auto salt =
        QByteArray::fromBase64Encoding(parts[2].toLatin1(), QByteArray::AbortOnBase64DecodingErrors);
    const auto key =
        QByteArray::fromBase64Encoding(parts[3].toLatin1(), QByteArray::AbortOnBase64DecodingErrors);
    if (!salt || !key || salt.decoded.size() < 8 || key.decoded.size() != kKeyBytes)
        return std::nullopt;
    return Parsed{iterations, salt.decoded, key.decoded};
}

std::optional<QByteArray> derive(const QString& pin, const QByteArray& salt, int iterations) {
    const QByteArray secret = pin.toUtf8();
    QByteArray key(kKeyBytes, '\0');
    if (PKCS5_PBKDF2_HMAC(secret.constData(), static_cast<int>(secret.size()),
                          reinterpret_cast<const unsigned char*>(salt.constData()),
                          static_cast<int>(salt.size()), iterations, EVP_sha256(), kKeyBytes,
                          reinterpret_cast<unsigned char*>(key.data())) != 1)
        return std::nullopt;
    return key;
}

} // namespace

bool AdminPin::isAcceptablePin(const QString& pin, QString* error) {
    if (pin.size() < 4 || pin.size() > 32) {
        *error = QStringLiteral("the PIN must have 4 to 32 digits");
        return false;
    }
    if (!std::all_of(pin.begin(), pin.end(), [](QChar c) { return c >= u'0' && c <= u'9'; })) {
        *error = QStringLiteral("the PIN may only contain digits");
        return false;
    }
    return true;
}

QString AdminPin::hash(const QString& pin, QString* error, int iterations) {
    if (!isAcceptablePin(pin, error))
        return {};
    if (iterations < kMinIterations || iterations > kMaxIterations) {
        *error = QStringLiteral("iteration count %1 is outside %2..%3")
                     .arg(iterations)
                     .arg(kMinIterations)
                     .arg(kMaxIterations);
        return {};
    }
    QByteArray salt(kSaltBytes, '\0');
    if (RAND_bytes(reinterpret_cast<unsigned char*>(salt.data()), kSaltBytes) != 1) {
        *error = QStringLiteral("the system random generator failed");
        return {};
    }
    const auto key = derive(pin, salt, iterations);
    if (!key) {
        *error = QStringLiteral("PBKDF2 failed");
        return {};
    }
    return QStringLiteral("%1$%2$%3$%4")
        .arg(kScheme, QString::number(iterations), QString::fromLatin1(salt.toBase64()),
             QString::fromLatin1(key->toBase64()));
}

bool AdminPin::isWellFormed(const QString& stored) {
    return parse(stored).has_value();
}

bool AdminPin::matches(const QString& pin, const QString& stored) {
    const auto parsed = parse(stored);
    if (!parsed)
        return false;
    const auto key = derive(pin, parsed->salt, parsed->iterations);
    // Both keys are kKeyBytes long; CRYPTO_memcmp takes the same time wherever they differ.
    return key && CRYPTO_memcmp(key->constData(), parsed->key.constData(), kKeyBytes) == 0;
}

AdminPin::AdminPin(QString storedHash, Clock clock)
    : stored_(std::move(storedHash)), clock_(std::move(clock)) {
    if (!clock_)
        clock_ = [] { return std::chrono::steady_clock::now(); };
}

void AdminPin::setStoredHash(QString storedHash) {
    stored_ = std::move(storedHash);
    failures_ = 0;
    lockedUntil_ = {};
}

std::chrono::milliseconds AdminPin::lockoutRemaining() const {
    const auto now = clock_();
    if (now >= lockedUntil_)
        return std::chrono::milliseconds(0);
    return std::chrono::ceil<std::chrono::milliseconds>(lockedUntil_ - now);
}

AdminPin::Result AdminPin::attempt(const QString& pin) {
    if (stored_.isEmpty())
        return Result::NoPin;
    if (lockoutRemaining().count() > 0)
        return Result::LockedOut;
    if (matches(pin, stored_)) {
        failures_ = 0;
        lockedUntil_ = {};
        return Result::Accepted;
    }
    failures_ = std::min(failures_ + 1, 1000);
    if (failures_ >= kFreeAttempts) {
        // 30 s, 60 s, 120 s, ... capped; the shift is bounded before it could overflow.
        const int doublings = std::min(failures_ - kFreeAttempts, 16);
        const auto lockout = std::min<std::chrono::seconds>(kBaseLockout * (1LL << doublings), kMaxLockout);
        lockedUntil_ = clock_() + lockout;
    }
    return Result::Rejected;
}

} // namespace saffron
