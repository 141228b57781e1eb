#pragma once

#include <QLoggingCategory>

// saffron.media.audio: PipeWire connection and stream state, underruns, rate correction.
Q_DECLARE_LOGGING_CATEGORY(lcAudio)
