import QtQuick
import QtQuick.Controls
import QtQuick.Layouts
import Saffron.Shell 1.0

// The connection list: one large tile per configured desktop. Enter or a click connects.
Rectangle {
    objectName: "launcher"
    color: "#1d232a"

    ColumnLayout {
        anchors.fill: parent
        anchors.margins: 48
        spacing: 24
        RowLayout {
            Layout.fillWidth: true
            Label { text: qsTr("Choose a desktop"); color: "white"; font.pixelSize: 34; Layout.fillWidth: true }
            Button {
                objectName: "launcherAdmin"
                visible: Admin.available
                text: qsTr("Administration…")
                onClicked: root.openAdmin()
            }
        }
        Label {
            visible: grid.count === 0
            text: qsTr("No connections are configured. An administrator adds them under Administration…, or in /etc/saffron/connections.d/.")
            color: "#c8d0d8"
            font.pixelSize: 18
            wrapMode: Text.Wrap
            Layout.fillWidth: true
        }
        GridView {
            id: grid
            objectName: "connectionGrid"
            Layout.fillWidth: true
            Layout.fillHeight: true
            cellWidth: 300
            cellHeight: 180
            focus: true
            model: Launcher
            keyNavigationEnabled: true
            Keys.onReturnPressed: Launcher.activate(currentIndex)
            Keys.onEnterPressed: Launcher.activate(currentIndex)
            Component.onCompleted: forceActiveFocus()
            delegate: Rectangle {
                width: grid.cellWidth - 20
                height: grid.cellHeight - 20
                radius: 10
                color: GridView.isCurrentItem ? "#3a6ea5" : "#2c3540"
                border.color: GridView.isCurrentItem ? "white" : "transparent"
                border.width: 2
                Column {
                    anchors.centerIn: parent
                    width: parent.width - 24
                    spacing: 6
                    Label { text: model.name; color: "white"; font.pixelSize: 22; width: parent.width; elide: Text.ElideRight; horizontalAlignment: Text.AlignHCenter }
                    Label { text: model.description; color: "#c8d0d8"; font.pixelSize: 14; width: parent.width; elide: Text.ElideRight; horizontalAlignment: Text.AlignHCenter }
                }
                MouseArea {
                    anchors.fill: parent
                    onClicked: { grid.currentIndex = index; Launcher.activate(index) }
                }
            }
        }
    }
}
