#pragma once

#include <QLoggingCategory>

// saffron.media: decoder selection (which element was chosen and why), pipeline errors and
// fallbacks. QT_LOGGING_RULES="saffron.media.debug=true" adds per-pipeline detail.
Q_DECLARE_LOGGING_CATEGORY(lcMedia)
