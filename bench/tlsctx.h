/* tlsctx.h: OpenSSL contexts for the bare TLS echo, set up like dmlogd's and libdmlog's.
 *
 * The server context takes the settings dmlogd's listener uses (TLS 1.2 minimum, so TLS 1.3
 * between these two; the same TLS 1.3 suites and groups; no tickets, no session cache, no
 * compression or renegotiation; client certificates required and checked against the CA
 * only), the client context those libdmlog uses (CA only, its node certificate, the server's
 * IP address verified). So the echo pays the same handshake-free per-record costs as a dmlog
 * request, and nothing more. Both return NULL and print the OpenSSL reason to stderr. */
#ifndef DMLOG_BENCH_TLSCTX_H
#define DMLOG_BENCH_TLSCTX_H

#include <openssl/ssl.h>

/* certs: a dmlog-certs.sh directory; the server uses peer-dmlogd1, the client node-NAME. */
SSL_CTX *tlsctx_server(const char *certs);
SSL_CTX *tlsctx_client(const char *certs, const char *node);

#endif /* DMLOG_BENCH_TLSCTX_H */
