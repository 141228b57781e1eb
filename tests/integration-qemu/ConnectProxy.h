#pragma once

#include <QByteArray>
#include <QList>
#include <QPointer>
#include <QTcpServer>
#include <QTcpSocket>

namespace saffron::test {

// A minimal HTTP CONNECT proxy (what Proxmox's spiceproxy speaks to clients), for tests: it
// records each CONNECT target, answers 200 and then relays bytes both ways.
class ConnectProxy : public QObject {
    Q_OBJECT
public:
    ConnectProxy() {
        server_.listen(QHostAddress::LocalHost, 0);
        connect(&server_, &QTcpServer::newConnection, this, &ConnectProxy::accept);
    }
    quint16 port() const { return server_.serverPort(); }
    QList<QByteArray> targets() const { return targets_; }

private:
    void accept() {
        while (QTcpSocket* client = server_.nextPendingConnection()) {
            auto* buffer = new QByteArray;
            connect(client, &QObject::destroyed, this, [buffer] { delete buffer; });
            connect(client, &QTcpSocket::readyRead, this, [this, client, buffer] {
                if (client->property("upstream").isValid())
                    return;
                buffer->append(client->readAll());
                const qsizetype end = buffer->indexOf("\r\n\r\n");
                if (end < 0)
                    return;
                const QList<QByteArray> request = buffer->left(end).split('\n').first().trimmed().split(' ');
                if (request.size() < 2 || request[0] != "CONNECT") {
                    client->write("HTTP/1.1 405 Method Not Allowed\r\n\r\n");
                    client->disconnectFromHost();
                    return;
                }
                targets_ << request[1];
                const QList<QByteArray> hp = request[1].split(':');
                auto* upstream = new QTcpSocket(client);
                client->setProperty("upstream", true);
                const QByteArray early = buffer->mid(end + 4);
                connect(upstream, &QTcpSocket::connected, client, [client, upstream, early] {
                    client->write("HTTP/1.1 200 Connection established\r\n\r\n");
                    if (!early.isEmpty())
                        upstream->write(early);
                    connect(client, &QTcpSocket::readyRead, upstream,
                            [client, upstream] { upstream->write(client->readAll()); });
                    connect(upstream, &QTcpSocket::readyRead, client,
                            [client, upstream] { client->write(upstream->readAll()); });
                    if (client->bytesAvailable())
                        upstream->write(client->readAll());
                });
                connect(upstream, &QTcpSocket::disconnected, client, &QTcpSocket::disconnectFromHost);
                connect(client, &QTcpSocket::disconnected, upstream, &QTcpSocket::disconnectFromHost);
                connect(client, &QTcpSocket::disconnected, client, &QObject::deleteLater);
                upstream->connectToHost(QString::fromLatin1(hp.value(0)), quint16(hp.value(1).toUInt()));
            });
        }
    }

    QTcpServer server_;
    QList<QByteArray> targets_;
};

} // namespace saffron::test
