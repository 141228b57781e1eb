import QtQuick
import Saffron.Shell 1.0

// The appliance's updater at work (UpdateStatusWatcher), shown by Main.qml above everything, the
// session included, because whoever stands there must not switch the machine off now. It takes
// no input: the desktop stays usable while the other slot is written.
Rectangle {
    id: updateBanner
    objectName: "updateBanner"
    width: parent ? parent.width : 0
    height: updateText.implicitHeight + 24
    color: Update.state === "refused" ? "#e0a83232" : "#e0205080"
    Text {
        id: updateText
        objectName: "updateBannerText"
        anchors { left: parent.left; right: parent.right; verticalCenter: parent.verticalCenter; margins: 16 }
        horizontalAlignment: Text.AlignHCenter
        wrapMode: Text.Wrap
        color: "white"
        font.pixelSize: 18
        text: Update.state === "installing"
              ? qsTr("Installing update %1. Do not switch off: the device restarts by itself when it is done.").arg(Update.version)
              : Update.state === "installed"
              ? qsTr("Update %1 installed. Restarting…").arg(Update.version)
              : Update.state === "refused"
              ? qsTr("The update was refused: %1").arg(Update.message)
              : ""
    }
}
