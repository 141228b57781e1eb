#pragma once

#include <QObject>
#include <QVariantList>
#include <memory>
#include <thread>

namespace saffron {

class AudioDeviceList;

// The machine's speakers and microphones for the session menu's device choice: PipeWire's
// Audio/Sink and Audio/Source nodes (media/ AudioDeviceList), updated while devices come and go.
// Each entry is {name, description}; `name` is what Controller.audioOutput/audioInput take. Empty
// lists when there is no PipeWire (the menu then offers only the system default). The daemon is
// asked on a thread of its own: opening waits for its first listing (up to a second), and the
// shell starts connecting and draws its first frame meanwhile.
class AudioDevicesModel : public QObject {
    Q_OBJECT
    Q_PROPERTY(QVariantList outputs READ outputs NOTIFY changed)
    Q_PROPERTY(QVariantList inputs READ inputs NOTIFY changed)
    Q_PROPERTY(bool available READ available NOTIFY changed)
public:
    explicit AudioDevicesModel(QObject* parent = nullptr);
    ~AudioDevicesModel() override;

    QVariantList outputs() const { return outputs_; }
    QVariantList inputs() const { return inputs_; }
    bool available() const { return list_ != nullptr; }

signals:
    void changed();

private:
    void refresh();

    std::thread opener_;
    std::shared_ptr<AudioDeviceList> list_;
    QVariantList outputs_;
    QVariantList inputs_;
};

} // namespace saffron
