#pragma once

#include "SessionOptions.h"

#include <QCommandLineOption>
#include <QStringList>
#include <optional>

class QCommandLineParser;

namespace saffron {

// Session-engine switches that `saffron` and `saffron-cli` both take on their command lines:
// --image-compression NAME, --video-codecs LIST, --video-decoder LIST, --lip-sync,
// --audio-output NODE, --audio-input NODE.
struct EngineOptions {
    std::optional<int> imageCompression; // SPICE_IMAGE_COMPRESSION_*
    QStringList videoCodecs;             // empty = not given
    QString videoDecoders;               // empty = not given
    bool lipSync = false;
    QString audioOutput; // PipeWire node; empty = not given
    QString audioInput;

    // Overrides only what was given: a connection's own settings stay otherwise.
    void applyTo(SessionOptions& options) const;
};

// Declares the options on a parser and reads them back, so both programs spell, document
// and validate them the same way.
class EngineOptionSet {
public:
    EngineOptionSet();
    void addTo(QCommandLineParser& parser) const;
    // nullopt with *error set ("--image-compression: unknown compression 'x' (...)") on a bad
    // value.
    std::optional<EngineOptions> read(const QCommandLineParser& parser, QString* error) const;

private:
    QCommandLineOption compression_;
    QCommandLineOption videoCodecs_;
    QCommandLineOption videoDecoder_;
    QCommandLineOption lipSync_;
    QCommandLineOption audioOutput_;
    QCommandLineOption audioInput_;
};

} // namespace saffron
