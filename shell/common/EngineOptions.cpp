#include "common/EngineOptions.h"

#include "common/ConnectionTarget.h"

#include <QCommandLineParser>

namespace saffron {

void EngineOptions::applyTo(SessionOptions& options) const {
    if (imageCompression)
        options.preferredCompression = imageCompression;
    if (!videoCodecs.isEmpty())
        options.videoCodecs = videoCodecs;
    if (!videoDecoders.isEmpty())
        options.videoDecoders = videoDecoders;
    if (lipSync)
        options.lowLatencyVideo = false;
    if (!audioOutput.isEmpty())
        options.audioOutput = audioOutput;
    if (!audioInput.isEmpty())
        options.audioInput = audioInput;
}

EngineOptionSet::EngineOptionSet()
    : compression_(QStringLiteral("image-compression"),
                   QStringLiteral("ask the server for this image compression "
                                  "(off, auto_glz, auto_lz, quic, glz, lz, lz4)"),
                   QStringLiteral("NAME")),
      videoCodecs_(QStringLiteral("video-codecs"),
                   QStringLiteral("video codecs the server may stream, preferred first "
                                  "(h264,vp9,vp8,mjpeg,h265)"),
                   QStringLiteral("LIST")),
      videoDecoder_(QStringLiteral("video-decoder"),
                    QStringLiteral("force decoder elements, e.g. h264=avdec_h264 "
                                   "(SAFFRON_VIDEO_DECODER wins)"),
                    QStringLiteral("LIST")),
      lipSync_(QStringLiteral("lip-sync"),
               QStringLiteral("show video frames at the server's mm-time instead of as soon as "
                              "they are decoded")),
      audioOutput_(QStringLiteral("audio-output"),
                   QStringLiteral("play the desktop's sound on this PipeWire node (node.name, e.g. from "
                                  "`wpctl status`) instead of the default sink"),
                   QStringLiteral("NODE")),
      audioInput_(QStringLiteral("audio-input"),
                  QStringLiteral("record the microphone from this PipeWire node instead of the default "
                                 "source"),
                  QStringLiteral("NODE")) {}

void EngineOptionSet::addTo(QCommandLineParser& parser) const {
    parser.addOptions({compression_, videoCodecs_, videoDecoder_, lipSync_, audioOutput_, audioInput_});
}

std::optional<EngineOptions> EngineOptionSet::read(const QCommandLineParser& parser, QString* error) const {
    EngineOptions o;
    if (parser.isSet(compression_)) {
        o.imageCompression = parseImageCompression(parser.value(compression_));
        if (!o.imageCompression) {
            if (error)
                *error = QStringLiteral("--image-compression: unknown compression '%1' "
                                        "(off, auto_glz, auto_lz, quic, glz, lz, lz4)")
                             .arg(parser.value(compression_).left(40));
            return std::nullopt;
        }
    }
    if (parser.isSet(videoCodecs_))
        o.videoCodecs = parser.value(videoCodecs_).split(u',', Qt::SkipEmptyParts);
    if (parser.isSet(videoDecoder_))
        o.videoDecoders = parser.value(videoDecoder_);
    o.lipSync = parser.isSet(lipSync_);
    o.audioOutput = parser.value(audioOutput_);
    o.audioInput = parser.value(audioInput_);
    return o;
}

} // namespace saffron
