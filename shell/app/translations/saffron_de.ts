<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="de_DE">
<context>
    <name>AdminPanel</name>
    <message>
        <source>Administration</source>
        <translation>Verwaltung</translation>
    </message>
    <message>
        <source>Administrator PIN</source>
        <translation>Administrator-PIN</translation>
    </message>
    <message>
        <source>Share the clipboard with the desktop</source>
        <translation>Zwischenablage mit dem Desktop teilen</translation>
    </message>
    <message>
        <source>Allow USB redirection</source>
        <translation>USB-Umleitung erlauben</translation>
    </message>
    <message>
        <source>On-screen keyboard</source>
        <translation>Bildschirmtastatur</translation>
    </message>
    <message>
        <source>New PIN (4 to 32 digits)</source>
        <translation>Neue PIN (4 bis 32 Ziffern)</translation>
    </message>
    <message>
        <source>Change PIN</source>
        <translation>PIN ändern</translation>
    </message>
    <message>
        <source>Close</source>
        <translation>Schließen</translation>
    </message>
    <message>
        <source>Connections</source>
        <translation>Verbindungen</translation>
    </message>
    <message>
        <source>Edit</source>
        <translation>Bearbeiten</translation>
    </message>
    <message>
        <source>Remove</source>
        <translation>Entfernen</translation>
    </message>
    <message>
        <source>Name shown on the tile</source>
        <translation>Name auf der Kachel</translation>
    </message>
    <message>
        <source>host:port or spice://host?tls-port=N</source>
        <translation>Host:Port oder spice://host?tls-port=N</translation>
    </message>
    <message>
        <source>Password (optional)</source>
        <translation>Passwort (optional)</translation>
    </message>
    <message>
        <source>Password (empty: unchanged)</source>
        <translation>Passwort (leer: unverändert)</translation>
    </message>
    <message>
        <source>Needs no password</source>
        <translation>Kein Passwort nötig</translation>
    </message>
    <message>
        <source>Add connection</source>
        <translation>Verbindung hinzufügen</translation>
    </message>
    <message>
        <source>Save connection</source>
        <translation>Verbindung speichern</translation>
    </message>
    <message>
        <source>Cancel</source>
        <translation>Abbrechen</translation>
    </message>
</context>
<context>
    <name>Launcher</name>
    <message>
        <source>Choose a desktop</source>
        <translation>Desktop wählen</translation>
    </message>
    <message>
        <source>Administration…</source>
        <translation>Verwaltung…</translation>
    </message>
    <message>
        <source>No connections are configured. An administrator adds them under Administration…, or in /etc/saffron/connections.d/.</source>
        <translation>Es sind keine Verbindungen eingerichtet. Ein Administrator legt sie unter „Verwaltung…“ oder in /etc/saffron/connections.d/ an.</translation>
    </message>
</context>
<context>
    <name>Main</name>
    <message>
        <source>display %1</source>
        <translation>Bildschirm %1</translation>
    </message>
</context>
<context>
    <name>PointerHint</name>
    <message>
        <source>Pointer captured – press %1 to release it</source>
        <translation>Mauszeiger gefangen – %1 gibt ihn frei</translation>
    </message>
</context>
<context>
    <name>SessionMenu</name>
    <message>
        <source>Send keys</source>
        <translation>Tasten senden</translation>
    </message>
    <message>
        <source>USB devices (%1 redirection channels)</source>
        <translation>USB-Geräte (%1 Umleitungskanäle)</translation>
    </message>
    <message>
        <source>USB devices: unavailable (%1)</source>
        <translation>USB-Geräte: nicht verfügbar (%1)</translation>
    </message>
    <message>
        <source>No USB devices are plugged in.</source>
        <translation>Es sind keine USB-Geräte angeschlossen.</translation>
    </message>
    <message>
        <source>Sound</source>
        <translation>Ton</translation>
    </message>
    <message>
        <source>Mute</source>
        <translation>Stumm</translation>
    </message>
    <message>
        <source>Microphone off</source>
        <translation>Mikrofon aus</translation>
    </message>
    <message>
        <source>Speaker</source>
        <translation>Lautsprecher</translation>
    </message>
    <message>
        <source>System default</source>
        <translation>Systemstandard</translation>
    </message>
    <message>
        <source>Microphone</source>
        <translation>Mikrofon</translation>
    </message>
    <message>
        <source>View</source>
        <translation>Ansicht</translation>
    </message>
    <message>
        <source>Fit to window</source>
        <translation>An Fenster anpassen</translation>
    </message>
    <message>
        <source>Actual size</source>
        <translation>Originalgröße</translation>
    </message>
    <message>
        <source>Fill</source>
        <translation>Füllen</translation>
    </message>
    <message>
        <source>Leave full screen</source>
        <translation>Vollbild verlassen</translation>
    </message>
    <message>
        <source>Full screen</source>
        <translation>Vollbild</translation>
    </message>
    <message>
        <source>Hide statistics</source>
        <translation>Statistik ausblenden</translation>
    </message>
    <message>
        <source>Show statistics</source>
        <translation>Statistik einblenden</translation>
    </message>
    <message>
        <source>Administration…</source>
        <translation>Verwaltung…</translation>
    </message>
    <message>
        <source>Disconnect</source>
        <translation>Trennen</translation>
    </message>
</context>
<context>
    <name>StatsOverlay</name>
    <message>
        <source>Updates: %1/s</source>
        <translation>Aktualisierungen: %1/s</translation>
    </message>
    <message>
        <source>Video: %1 fps</source>
        <translation>Video: %1 fps</translation>
    </message>
    <message>
        <source>Image decode: %1 ms</source>
        <translation>Bilddekodierung: %1 ms</translation>
    </message>
    <message>
        <source>Video decode: %1 ms</source>
        <translation>Videodekodierung: %1 ms</translation>
    </message>
    <message>
        <source>Video colour conversion: %1</source>
        <translation>Video-Farbumrechnung: %1</translation>
    </message>
    <message>
        <source>Arrival to screen: %1 ms</source>
        <translation>Empfang bis Bildschirm: %1 ms</translation>
    </message>
    <message>
        <source>Network: %1 Mbit/s</source>
        <translation>Netzwerk: %1 Mbit/s</translation>
    </message>
    <message>
        <source>Dropped frames: %1</source>
        <translation>Verworfene Bilder: %1</translation>
    </message>
    <message>
        <source>Desktop: %1</source>
        <translation>Desktop: %1</translation>
    </message>
    <message>
        <source>Decoders: %1</source>
        <translation>Decoder: %1</translation>
    </message>
</context>
<context>
    <name>StatusActions</name>
    <message>
        <source>Password</source>
        <translation>Passwort</translation>
    </message>
    <message>
        <source>Reconnect now</source>
        <translation>Jetzt neu verbinden</translation>
    </message>
    <message>
        <source>Try again</source>
        <translation>Erneut versuchen</translation>
    </message>
    <message>
        <source>Administration…</source>
        <translation>Verwaltung…</translation>
    </message>
    <message>
        <source>Cancel</source>
        <translation>Abbrechen</translation>
    </message>
</context>
<context>
    <name>StatusScreen</name>
    <message>
        <source>Looking up the server…</source>
        <translation>Server wird gesucht…</translation>
    </message>
    <message>
        <source>Connecting to the server…</source>
        <translation>Verbindung zum Server wird aufgebaut…</translation>
    </message>
    <message>
        <source>Securing the connection (TLS)…</source>
        <translation>Verbindung wird gesichert (TLS)…</translation>
    </message>
    <message>
        <source>Negotiating the session…</source>
        <translation>Sitzung wird ausgehandelt…</translation>
    </message>
    <message>
        <source>Signing in…</source>
        <translation>Anmeldung…</translation>
    </message>
    <message>
        <source>Opening the desktop…</source>
        <translation>Desktop wird geöffnet…</translation>
    </message>
    <message>
        <source>Waiting for the first picture…</source>
        <translation>Warten auf das erste Bild…</translation>
    </message>
    <message>
        <source>Connecting…</source>
        <translation>Verbinden…</translation>
    </message>
    <message>
        <source>Reconnecting</source>
        <translation>Erneut verbinden</translation>
    </message>
    <message>
        <source>Connecting</source>
        <translation>Verbinden</translation>
    </message>
    <message>
        <source>Authentication failed</source>
        <translation>Anmeldung fehlgeschlagen</translation>
    </message>
    <message>
        <source>Sign in to %1</source>
        <translation>Bei %1 anmelden</translation>
    </message>
    <message>
        <source>The server&apos;s certificate was refused</source>
        <translation>Das Zertifikat des Servers wurde abgelehnt</translation>
    </message>
    <message>
        <source>The server cannot be reached</source>
        <translation>Der Server ist nicht erreichbar</translation>
    </message>
    <message>
        <source>The connection was lost</source>
        <translation>Die Verbindung wurde unterbrochen</translation>
    </message>
    <message>
        <source>The server closed the session</source>
        <translation>Der Server hat die Sitzung beendet</translation>
    </message>
    <message>
        <source>The session failed</source>
        <translation>Die Sitzung ist fehlgeschlagen</translation>
    </message>
    <message>
        <source>Not connected</source>
        <translation>Nicht verbunden</translation>
    </message>
    <message>
        <source>No desktop is set up for this device</source>
        <translation>Für dieses Gerät ist kein Desktop eingerichtet</translation>
    </message>
    <message>
        <source>The desktop connection cannot be used</source>
        <translation>Die Desktop-Verbindung ist nicht verwendbar</translation>
    </message>
    <message>
        <source>Ask your administrator to add or correct the connection in /etc/saffron/connections.d.</source>
        <translation>Bitten Sie Ihren Administrator, die Verbindung in /etc/saffron/connections.d anzulegen oder zu korrigieren.</translation>
    </message>
    <message>
        <source>Trying again in %1 s…</source>
        <translation>Neuer Versuch in %1 s…</translation>
    </message>
</context>
<context>
    <name>UpdateBanner</name>
    <message>
        <source>Installing update %1. Do not switch off: the device restarts by itself when it is done.</source>
        <translation>Update %1 wird installiert. Bitte nicht ausschalten: Das Gerät startet danach von selbst neu.</translation>
    </message>
    <message>
        <source>Update %1 installed. Restarting…</source>
        <translation>Update %1 installiert. Neustart…</translation>
    </message>
    <message>
        <source>The update was refused: %1</source>
        <translation>Das Update wurde abgelehnt: %1</translation>
    </message>
</context>
<context>
    <name>saffron::AdminController</name>
    <message>
        <source>Wrong PIN</source>
        <translation>Falsche PIN</translation>
    </message>
    <message>
        <source>Too many wrong PINs: try again in %1 s</source>
        <translation>Zu viele falsche PINs: erneut versuchen in %1 s</translation>
    </message>
    <message>
        <source>No administrator PIN is set: settings stay locked on this kiosk</source>
        <translation>Keine Administrator-PIN gesetzt: Die Einstellungen bleiben an diesem Kiosk gesperrt</translation>
    </message>
    <message>
        <source>No administrator PIN is set</source>
        <translation>Keine Administrator-PIN gesetzt</translation>
    </message>
    <message>
        <source>Settings are locked</source>
        <translation>Die Einstellungen sind gesperrt</translation>
    </message>
    <message>
        <source>Saved; takes effect at the next start</source>
        <translation>Gespeichert; wirkt ab dem nächsten Start</translation>
    </message>
    <message>
        <source>PIN changed</source>
        <translation>PIN geändert</translation>
    </message>
    <message>
        <source>Connections cannot be changed here</source>
        <translation>Verbindungen können hier nicht geändert werden</translation>
    </message>
    <message>
        <source>Not saved: %1</source>
        <translation>Nicht gespeichert: %1</translation>
    </message>
    <message>
        <source>Connection saved</source>
        <translation>Verbindung gespeichert</translation>
    </message>
    <message>
        <source>Not removed: %1</source>
        <translation>Nicht entfernt: %1</translation>
    </message>
    <message>
        <source>Connection removed</source>
        <translation>Verbindung entfernt</translation>
    </message>
    <message>
        <source>Connection saved; takes effect at the next start</source>
        <translation>Verbindung gespeichert; gilt ab dem nächsten Start</translation>
    </message>
    <message>
        <source>Connection removed; takes effect at the next start</source>
        <translation>Verbindung entfernt; gilt ab dem nächsten Start</translation>
    </message>
</context>
<context>
    <name>saffron::UsbController</name>
    <message>
        <source>Not connected to a desktop</source>
        <translation>Mit keinem Desktop verbunden</translation>
    </message>
    <message>
        <source>the device is gone</source>
        <translation>das Gerät ist nicht mehr da</translation>
    </message>
</context>
</TS>
