#pragma once

#include <QByteArray>
#include <cstdint>
#include <span>
#include <vector>

namespace saffron {

// Encrypts the SPICE ticket (password) for the "SPICE" auth mechanism: RSA-OAEP with SHA-1
// and MGF1-SHA-1, empty label, under the 1024-bit key from the link reply
// (spice_protocol.txt "Ticket encryption"; spice-server reds.c decrypts with
// RSA_PKCS1_OAEP_PADDING). The plaintext is the password plus its terminating NUL.
// Throws ProtocolError if the key is not a usable RSA public key.
std::vector<uint8_t> encryptTicket(std::span<const uint8_t> subjectPublicKeyInfoDer,
                                   const QByteArray& password);

// Encrypts a ticket once under a built-in key and throws the result away. OpenSSL's first
// public-key decode and OAEP setup in a process load its configuration and providers and build
// its decoders (~6 ms here, against 0.4 ms for every later link); done on a warm-up thread at
// start, that is no longer on the first channel's link path.
void warmUpTicketCipher();

} // namespace saffron
