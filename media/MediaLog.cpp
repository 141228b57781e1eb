#include "MediaLog.h"

Q_LOGGING_CATEGORY(lcMedia, "saffron.media", QtInfoMsg)
