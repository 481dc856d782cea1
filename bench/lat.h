/* lat.h: the latency agents of bench_lat, one per thing measured (see agent.h for how the
 * driver talks to them). Each *_main takes the "key=value" arguments after the mode name and
 * returns the process exit status. */
#ifndef DMLOG_BENCH_LAT_H
#define DMLOG_BENCH_LAT_H

/* fsync dir=DIR [peers=3]: one 4 KiB pwrite + fdatasync per sample into a file in DIR; with
 * peers=3, three at once in three threads (series fsync3_2nd and fsync3_all). */
int lat_fsync_main(int argc, char **argv);

/* dmlog servers=H:P[,H:P...] certs=DIR node=NAME uuid=UUID [luid=N] [regions=N]: through
 * libdmlog's blocking API, series markflush (MARK_REGION then FLUSH), iflush (FLUSH carrying
 * the mark) and insync (IN_SYNC). */
int lat_dmlog_main(int argc, char **argv);

/* ctr servers=... certs=DIR node=NAME uuid=UUID args=STRING: one CTR and RESUME (not an
 * agent: prints "ok" or the error and exits). */
int lat_ctr_main(int argc, char **argv);

/* bridge path=SOCKET uuid=UUID [regions=N]: the same three series as the kernel sees them,
 * through dmlog-bridge's dgram test transport with the fake kernel. */
int lat_bridge_main(int argc, char **argv);

/* tls port=P certs=DIR [req=BYTES] [rep=BYTES]: series tls_echo, one frame to bench_tlsecho
 * and its answer, by default the sizes of an IN_SYNC request and its reply. */
int lat_tls_main(int argc, char **argv);

/* raw port=P certs=DIR [node=NAME] [uuid=UUID]: series raw_insync, IN_SYNC to dmlogd over a
 * bare blocking TLS client (hand-packed protobuf, as lat_tls's echo client), so that the
 * difference to tls_echo is dmlogd's own work and the difference to libdmlog's insync is the
 * library's. */
int lat_raw_main(int argc, char **argv);

/* etcd port=P: series etcd_put, one HTTP/1.1 keep-alive POST /v3/kv/put to etcd's gRPC
 * gateway on 127.0.0.1:P. */
int lat_etcd_main(int argc, char **argv);

/* wake: series wake_cross and wake_same, an eventfd round trip between two threads (two
 * wake-ups) across CPUs and on one CPU (see lat_wake.c). */
int lat_wake_main(int argc, char **argv);

#endif /* DMLOG_BENCH_LAT_H */
