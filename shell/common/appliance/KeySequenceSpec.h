#pragma once

#include <QKeyCombination>
#include <QString>
#include <QStringView>
#include <optional>

namespace saffron {

// Key strings as virt-viewer writes them in .vv files and --hotkeys ("Ctrl+Alt+R",
// "shift+f12", "ctrl+alt+end"): modifiers and exactly one key joined by '+', case-insensitive.
// virt-viewer hands these to gtk_accelerator_parse, so key names follow GDK's (F1..F35,
// Delete, End, Page_Up, BackSpace, ...); common aliases (Del, Esc, PgUp, Enter) are accepted
// too. A literal '+' key is written "plus".
//
// Modifiers: Ctrl (Control, Primary), Alt (Mod1), Shift, Super (Meta, Win, Mod4) -> Qt's
// ControlModifier, AltModifier, ShiftModifier, MetaModifier.
class KeySequenceSpec {
public:
    // Returns the key and modifiers, or std::nullopt with *error set ("unknown key 'F99' in
    // 'Ctrl+F99'", "'Ctrl+Alt' has no key, only modifiers", ...).
    static std::optional<QKeyCombination> parse(QStringView text, QString* error);
    // The canonical spelling ("Ctrl+Alt+Shift+S"), parseable again by parse().
    static QString toString(QKeyCombination combination);
};

} // namespace saffron
