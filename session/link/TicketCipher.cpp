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

} // namespace saffron
