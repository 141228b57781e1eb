#pragma once

#include <QString>
#include <chrono>
#include <functional>

namespace saffron {

// The administrator PIN that unlocks the settings of a kiosk.
//
// Storage: "pbkdf2-sha256$<iterations>$<salt base64>$<hash base64>", PBKDF2-HMAC-SHA256
// (RFC 8018 section 5.2) with a 16-byte random salt and a 32-byte key, never the PIN itself.
// PINs are short, so the iteration count is what slows down an offline guess from a stolen
// settings file; at least kMinIterations are required when reading a stored hash, so a
// tampered file cannot lower it to 1.
//
// Guessing at the screen is limited by lockout: after kFreeAttempts failures in a row, each
// further failure locks the PIN for kBaseLockout * 2^(failures - kFreeAttempts), at most
// kMaxLockout. Attempts during a lockout are refused without being checked or counted. The
// clock is injected so tests need no sleeping.
class AdminPin {
public:
    using Clock = std::function<std::chrono::steady_clock::time_point()>;

    static constexpr int kMinIterations = 100'000;
    static constexpr int kMaxIterations = 10'000'000; // bounds the work a stored value can ask for
    static constexpr int kDefaultIterations = 200'000;
    static constexpr int kFreeAttempts = 3;
    static constexpr std::chrono::seconds kBaseLockout{30};
    static constexpr std::chrono::seconds kMaxLockout{3600};

    // A PIN must be 4 to 32 digits (the on-screen keypad and the virtual keyboard both offer
    // digits; longer values are passphrases, which this is not meant for).
    static bool isAcceptablePin(const QString& pin, QString* error);
    // Hashes with a fresh random salt; empty string (and *error) if OpenSSL fails or the PIN
    // is not acceptable.
    static QString hash(const QString& pin, QString* error, int iterations = kDefaultIterations);
    // True when `pin` matches `stored` (compared in constant time). A malformed stored value
    // never matches.
    static bool matches(const QString& pin, const QString& stored);
    // Whether `stored` is in the format above with acceptable parameters.
    static bool isWellFormed(const QString& stored);

    enum class Result { Accepted, Rejected, LockedOut, NoPin };

    explicit AdminPin(QString storedHash, Clock clock = {});

    // Checks one attempt, applying and updating the lockout.
    Result attempt(const QString& pin);
    // Time left before the next attempt is checked; zero when not locked.
    std::chrono::milliseconds lockoutRemaining() const;
    int consecutiveFailures() const { return failures_; }
    bool hasPin() const { return !stored_.isEmpty(); }
    // A new PIN was stored: forget failures.
    void setStoredHash(QString storedHash);

private:
    QString stored_;
    Clock clock_;
    int failures_ = 0;
    std::chrono::steady_clock::time_point lockedUntil_{};
};

} // namespace saffron
