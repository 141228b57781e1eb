#pragma once

#include <QLoggingCategory>

// One category per area so a journal filter (QT_LOGGING_RULES) can pick what to see.
Q_DECLARE_LOGGING_CATEGORY(lcSession)
Q_DECLARE_LOGGING_CATEGORY(lcLink)
Q_DECLARE_LOGGING_CATEGORY(lcDisplay)
Q_DECLARE_LOGGING_CATEGORY(lcInputs)
Q_DECLARE_LOGGING_CATEGORY(lcCursor)
Q_DECLARE_LOGGING_CATEGORY(lcAgent)
