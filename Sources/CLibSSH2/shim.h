#ifndef CLIBSSH2_SHIM_H
#define CLIBSSH2_SHIM_H
#include <libssh2.h>
#include <libssh2_sftp.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>
#include <openssl/rand.h>

// Swift cannot call C function-like macros; these wrap the libssh2 macros the SSH module uses.

static inline LIBSSH2_SESSION *clusterctl_session_init(void) {
    return libssh2_session_init_ex(NULL, NULL, NULL, NULL);
}

static inline LIBSSH2_CHANNEL *clusterctl_channel_open_session(LIBSSH2_SESSION *session) {
    return libssh2_channel_open_ex(session, "session", sizeof("session") - 1,
                                   LIBSSH2_CHANNEL_WINDOW_DEFAULT, LIBSSH2_CHANNEL_PACKET_DEFAULT, NULL, 0);
}

static inline int clusterctl_channel_exec(LIBSSH2_CHANNEL *channel, const char *command, unsigned int length) {
    return libssh2_channel_process_startup(channel, "exec", sizeof("exec") - 1, command, length);
}

static inline LIBSSH2_SFTP_HANDLE *clusterctl_sftp_open_for_write(LIBSSH2_SFTP *sftp, const char *path,
                                                                  unsigned int length, long mode) {
    return libssh2_sftp_open_ex(sftp, path, length,
                                LIBSSH2_FXF_WRITE | LIBSSH2_FXF_CREAT | LIBSSH2_FXF_TRUNC, mode,
                                LIBSSH2_SFTP_OPENFILE);
}

static inline int clusterctl_sftp_set_permissions(LIBSSH2_SFTP_HANDLE *handle, unsigned long permissions) {
    LIBSSH2_SFTP_ATTRIBUTES attributes;
    memset(&attributes, 0, sizeof(attributes));
    attributes.flags = LIBSSH2_SFTP_ATTR_PERMISSIONS;
    attributes.permissions = permissions;
    return libssh2_sftp_fstat_ex(handle, &attributes, 1);
}

// libcrypto's first initialisation, before libssh2's or any digest: without NO_ATEXIT, OpenSSL frees its
// global state from an atexit handler while other threads may still be ending (their thread-local
// destructors use that state), and the controller crashed (SIGSEGV in libcrypto) after finishing its work.
static inline int clusterctl_crypto_init(void) {
    return OPENSSL_init_crypto(OPENSSL_INIT_NO_ATEXIT, NULL);
}

static inline int clusterctl_hmac_sha1(const void *key, int keyLength, const unsigned char *data, size_t length,
                                       unsigned char *out20) {
    unsigned int outLength = 0;
    return HMAC(EVP_sha1(), key, keyLength, data, length, out20, &outLength) != NULL && outLength == 20;
}

static inline void clusterctl_sha256(const unsigned char *data, size_t length, unsigned char *out32) {
    SHA256(data, length, out32);
}

static inline int clusterctl_random_bytes(unsigned char *out, int length) {
    return RAND_bytes(out, length) == 1;
}

#endif
