#include "link/TicketCipher.h"

#include "wire/ProtocolError.h"

#include <memory>
#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <spice/protocol.h>

namespace saffron {
namespace {
struct PkeyFree {
    void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
struct PkeyCtxFree {
    void operator()(EVP_PKEY_CTX* c) const { EVP_PKEY_CTX_free(c); }
};

// The public half of a 1024-bit RSA key made for this purpose (SubjectPublicKeyInfo, DER), the
// shape of what spice-server sends; its private half was never kept.
constexpr uint8_t kWarmUpKey[] = {
    0x30, 0x81, 0x9f, 0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01, 0x05,
    0x00, 0x03, 0x81, 0x8d, 0x00, 0x30, 0x81, 0x89, 0x02, 0x81, 0x81, 0x00, 0xae, 0x44, 0x46, 0x67, 0x08,
    0xf2, 0x82, 0xe6, 0x3a, 0x73, 0xeb, 0x66, 0xd3, 0xe2, 0xf1, 0xbd, 0x4c, 0x2f, 0x43, 0xf0, 0xb0, 0xb6,
    0xa8, 0x79, 0x10, 0x50, 0x2e, 0xb7, 0x84, 0xef, 0x39, 0x24, 0x1c, 0x55, 0x4e, 0x1b, 0xb0, 0xda, 0x57,
    0x6a, 0x7c, 0xfd, 0x19, 0x5c, 0x23, 0xd9, 0xfb, 0x86, 0x56, 0xfc, 0x06, 0xf7, 0x3f, 0xc4, 0xc2, 0xa0,
    0xf7, 0x2d, 0xee, 0xd7, 0xa1, 0xd5, 0x66, 0x4e, 0xad, 0xe7, 0x37, 0x0a, 0x72, 0xfd, 0x77, 0x36, 0xb3,
    0x6c, 0x8d, 0xb9, 0xec, 0xdb, 0x2d, 0xc5, 0x9f, 0xcf, 0x03, 0x29, 0xb0, 0x4c, 0x6d, 0x56, 0xd5, 0xe3,
    0x64, 0x28, 0x05, 0xc9, 0x51, 0x6a, 0xe7, 0x2c, 0x72, 0x9f, 0xa0, 0xdc, 0x2b, 0x79, 0xe3, 0x75, 0x88,
    0xba, 0xeb, 0x1e, 0x14, 0x5e, 0x56, 0xcc, 0x36, 0x66, 0xf9, 0xa9, 0x7e, 0xd0, 0xa4, 0x37, 0x02, 0x08,
    0xa9, 0xe0, 0xf5, 0x71, 0x02, 0x03, 0x01, 0x00, 0x01};
} // namespace

std::vector<uint8_t> encryptTicket(std::span<const uint8_t> der, const QByteArray& password) {
    if (password.size() > SPICE_MAX_PASSWORD_LENGTH)
        throw ProtocolError("password longer than the " + std::to_string(SPICE_MAX_PASSWORD_LENGTH) +
                            " bytes SPICE allows");
    const unsigned char* p = der.data();
    std::unique_ptr<EVP_PKEY, PkeyFree> key(d2i_PUBKEY(nullptr, &p, static_cast<long>(der.size())));
    if (!key || EVP_PKEY_get_base_id(key.get()) != EVP_PKEY_RSA)
        throw ProtocolError("server sent an unusable ticket public key");
    std::unique_ptr<EVP_PKEY_CTX, PkeyCtxFree> ctx(EVP_PKEY_CTX_new(key.get(), nullptr));
    if (!ctx || EVP_PKEY_encrypt_init(ctx.get()) <= 0 ||
        EVP_PKEY_CTX_set_rsa_padding(ctx.get(), RSA_PKCS1_OAEP_PADDING) <= 0 ||
        EVP_PKEY_CTX_set_rsa_oaep_md(ctx.get(), EVP_sha1()) <= 0 ||
        EVP_PKEY_CTX_set_rsa_mgf1_md(ctx.get(), EVP_sha1()) <= 0)
        throw ProtocolError("cannot set up RSA-OAEP for the ticket");
    QByteArray plain = password;
    plain.append('\0');
    size_t outLen = 0;
    const auto* in = reinterpret_cast<const unsigned char*>(plain.constData());
    if (EVP_PKEY_encrypt(ctx.get(), nullptr, &outLen, in, static_cast<size_t>(plain.size())) <= 0)
        throw ProtocolError("ticket encryption failed");
    std::vector<uint8_t> out(outLen);
    if (EVP_PKEY_encrypt(ctx.get(), out.data(), &outLen, in, static_cast<size_t>(plain.size())) <= 0)
        throw ProtocolError("ticket encryption failed");
    out.resize(outLen);
    plain.fill('\0');
    return out;
}

void warmUpTicketCipher() {
    try {
        encryptTicket(kWarmUpKey, QByteArray());
    } catch (const ProtocolError&) {
        // Only a warm-up: a real link reports its own failure.
    }
}

} // namespace saffron
