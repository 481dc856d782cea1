/* ctls.h: the client's OpenSSL context and the wording of TLS failures.
 *
 * One SSL_CTX per handle, loaded once from the options (TLS 1.2 minimum, the server certificate
 * verified against ca_file, our certificate presented). TLS failures are turned into a negative
 * errno and a short cause that names what went wrong: OpenSSL's verify error when we refused the
 * server's certificate, the alert when the server refused ours.
 */
#ifndef DMLOG_CLIENT_CTLS_H
#define DMLOG_CLIENT_CTLS_H

#include <stddef.h>

#include <openssl/ssl.h>

/* Creates the client context. Returns NULL with the reason in errmsg on failure. */
SSL_CTX *ctls_ctx_new(const char *ca_file, const char *cert_file, const char *key_file,
		     char *errmsg, size_t errlen);

/* Creates the SSL object of one connection to a server that must prove to be verify_name (a DNS
 * name or an IP address). Returns NULL when out of memory. */
SSL *ctls_new(SSL_CTX *ctx, const char *verify_name);

/* A socket BIO for fd, left open when the BIO is freed: OpenSSL's own socket BIO for reading and
 * control, with writes that never raise SIGPIPE (send() with MSG_NOSIGNAL), so that writing to a
 * connection the server closed fails with EPIPE in any thread, whatever its signal mask, and no
 * call has to mask the signal. Returns NULL when out of memory. */
BIO *ctls_socket_bio(int fd);

/* Describes a TLS failure: ssl_err is the first OpenSSL error of the failure (0 if none),
 * sock_err the socket errno (0 if none). Writes the cause into buf and returns -EACCES
 * (a certificate was refused by either side), -EPROTO (another TLS failure) or a negative socket
 * errno (-ECONNRESET when there is nothing better). */
int ctls_describe(SSL *ssl, unsigned long ssl_err, int sock_err, char *buf, size_t len);

/* Writes the reason of OpenSSL error e into buf (never empty). */
void ctls_error_string(unsigned long e, char *buf, size_t len);

#endif /* DMLOG_CLIENT_CTLS_H */
