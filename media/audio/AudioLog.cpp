#include "AudioLog.h"

Q_LOGGING_CATEGORY(lcAudio, "saffron.media.audio")
