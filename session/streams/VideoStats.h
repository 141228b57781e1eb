#pragma once

#include <QString>
#include <QtGlobal>

namespace saffron {

// Video stream counters of a display channel, in the spirit of moonlight-qt's statistics overlay:
// what arrived, what the decoders made of it, what reached the screen, and where time went.
// Totals since the channel opened; callers take differences over their own window.
struct VideoStats {
    quint64 streamsCreated = 0;
    quint64 streamsUndecodable = 0; // created with a codec no decoder here handles
    quint64 framesReceived = 0;     // STREAM_DATA messages for live streams
    quint64 framesDecoded = 0;
    quint64 framesPresented = 0;
    quint64 framesAsLayer = 0;      // of framesPresented: handed over as a YUV layer, not converted
    quint64 dropsDecoder = 0;       // refused by a decoder that is behind, or undecodable
    quint64 dropsLate = 0;          // decoded but superseded before their presentation time
    quint64 decodedLate = 0;        // of framesDecoded: ready only after their mm-time (decoder behind)
    quint64 decodeErrors = 0;       // errors reported by decoders (each may trigger a fallback)
    quint64 decodeNs = 0;           // submit -> decoded, over framesDecoded
    quint64 queueNs = 0;            // decoded -> presented, over framesPresented
    quint64 renderNs = 0;           // conversion and drawing, over framesPresented
    quint64 arrivalToPresentNs = 0; // message parsed -> presented, over framesPresented
    quint64 arrivalToPresentMaxNs = 0;
    // Lip-sync with the sound (frames presented while audio played, scheduled by the audio
    // being heard): the offset of each such frame from its sound, video late positive.
    quint64 framesLipSynced = 0;
    qint64 avOffsetMsSum = 0;
    qint64 avOffsetMsMaxAbs = 0;
    QString decoders; // the elements decoding the live streams, e.g. "h264:avdec_h264"

    // Sums another display channel's figures into these (maxima stay maxima).
    VideoStats& operator+=(const VideoStats& o) {
        streamsCreated += o.streamsCreated;
        streamsUndecodable += o.streamsUndecodable;
        framesReceived += o.framesReceived;
        framesDecoded += o.framesDecoded;
        framesPresented += o.framesPresented;
        framesAsLayer += o.framesAsLayer;
        dropsDecoder += o.dropsDecoder;
        dropsLate += o.dropsLate;
        decodedLate += o.decodedLate;
        decodeErrors += o.decodeErrors;
        decodeNs += o.decodeNs;
        queueNs += o.queueNs;
        renderNs += o.renderNs;
        arrivalToPresentNs += o.arrivalToPresentNs;
        arrivalToPresentMaxNs = qMax(arrivalToPresentMaxNs, o.arrivalToPresentMaxNs);
        framesLipSynced += o.framesLipSynced;
        avOffsetMsSum += o.avOffsetMsSum;
        avOffsetMsMaxAbs = qMax(avOffsetMsMaxAbs, o.avOffsetMsMaxAbs);
        if (!o.decoders.isEmpty())
            decoders = (decoders + QLatin1Char(' ') + o.decoders).trimmed();
        return *this;
    }
};

} // namespace saffron
