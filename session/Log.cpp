#include "Log.h"

Q_LOGGING_CATEGORY(lcSession, "saffron.session", QtInfoMsg)
Q_LOGGING_CATEGORY(lcLink, "saffron.link", QtInfoMsg)
Q_LOGGING_CATEGORY(lcDisplay, "saffron.display", QtInfoMsg)
Q_LOGGING_CATEGORY(lcInputs, "saffron.inputs", QtInfoMsg)
Q_LOGGING_CATEGORY(lcCursor, "saffron.cursor", QtInfoMsg)
Q_LOGGING_CATEGORY(lcAgent, "saffron.agent", QtInfoMsg)
